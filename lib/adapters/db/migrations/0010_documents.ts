import { sql, type Kysely } from 'kysely';

/**
 * Meeting documents (tài liệu họp) and reports (báo cáo).
 *
 * - `document`: one per document of a meeting, optionally tied to one
 *   occurrence and to one agenda item (its index in `meeting.agenda`).
 *   `visibility` is `in_advance` (readable from the invitation on) or
 *   `meeting_only` (readable from the start of the occurrence, or of the
 *   meeting when no occurrence is set).
 * - `document_version`: every confirmed upload of a document, numbered from 1;
 *   `(document_id, version)` is unique. Processing fills the hash, type, page
 *   count, thumbnail, PDF rendition and search text, or the rejection.
 * - `document_upload`: uploads started but not yet confirmed, with the S3
 *   multipart upload id. A pending row is unique per uploader, target and
 *   file (`resume_key`), so starting the same upload again resumes it. The
 *   sweep aborts and deletes expired ones; a confirmed row keeps the version
 *   it produced until it expires, so a repeated confirm returns that version.
 * - `document_read`: the last version each person opened, to mark documents
 *   changed since then.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('document')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('meeting_id', 'uuid', (col) => col.notNull().references('meeting.id').onDelete('cascade'))
    .addColumn('occurrence_id', 'uuid', (col) => col.references('meeting_occurrence.id').onDelete('set null'))
    .addColumn('agenda_index', 'integer', (col) => col.check(sql`agenda_index >= 0`))
    .addColumn('title', 'text', (col) => col.notNull())
    .addColumn('title_search', 'text', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull().check(sql`kind in ('document', 'report')`))
    .addColumn('visibility', 'text', (col) => col.notNull().check(sql`visibility in ('in_advance', 'meeting_only')`))
    .addColumn('created_by', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('document_meeting_idx').on('document').columns(['meeting_id', 'created_at']).execute();

  await db.schema
    .createTable('document_version')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('document_id', 'uuid', (col) => col.notNull().references('document.id').onDelete('cascade'))
    .addColumn('meeting_id', 'uuid', (col) => col.notNull().references('meeting.id').onDelete('cascade'))
    .addColumn('version', 'integer', (col) => col.notNull().check(sql`version >= 1`))
    .addColumn('file_name', 'text', (col) => col.notNull())
    .addColumn('claimed_type', 'text', (col) => col.notNull())
    .addColumn('size_bytes', 'bigint', (col) => col.notNull().check(sql`size_bytes > 0`))
    .addColumn('object_key', 'text', (col) => col.notNull().unique())
    .addColumn('note', 'text')
    .addColumn('uploaded_by', 'text', (col) => col.notNull())
    .addColumn('uploaded_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('processing', 'ready', 'rejected')`))
    .addColumn('sha256', 'text')
    .addColumn('detected_type', 'text')
    .addColumn('page_count', 'integer')
    .addColumn('thumbnail_key', 'text')
    .addColumn('pdf_key', 'text')
    .addColumn('conversion', 'text', (col) => col.check(sql`conversion in ('not_needed', 'converted', 'failed')`))
    .addColumn('conversion_error', 'text')
    .addColumn('rejected_code', 'text')
    .addColumn('text_content', 'text')
    .addColumn('text_search', 'text')
    .addColumn('processed_at', 'timestamptz')
    .addUniqueConstraint('document_version_number_key', ['document_id', 'version'])
    .execute();
  await db.schema.createIndex('document_version_meeting_idx').on('document_version').column('meeting_id').execute();

  await db.schema
    .createTable('document_upload')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('meeting_id', 'uuid', (col) => col.notNull().references('meeting.id').onDelete('cascade'))
    .addColumn('document_id', 'uuid', (col) => col.references('document.id').onDelete('cascade'))
    .addColumn('occurrence_id', 'uuid')
    .addColumn('agenda_index', 'integer')
    .addColumn('title', 'text', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('visibility', 'text', (col) => col.notNull())
    .addColumn('note', 'text')
    .addColumn('file_name', 'text', (col) => col.notNull())
    .addColumn('content_type', 'text', (col) => col.notNull())
    .addColumn('size_bytes', 'bigint', (col) => col.notNull())
    .addColumn('part_size', 'integer', (col) => col.notNull())
    .addColumn('part_count', 'integer', (col) => col.notNull())
    .addColumn('object_key', 'text', (col) => col.notNull().unique())
    .addColumn('storage_upload_id', 'text', (col) => col.notNull())
    .addColumn('resume_key', 'text', (col) => col.notNull())
    .addColumn('created_by', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('pending', 'confirmed')`))
    .addColumn('version_id', 'uuid')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .execute();
  await sql`create unique index document_upload_resume_key on document_upload (resume_key) where status = 'pending'`.execute(db);
  await db.schema.createIndex('document_upload_expires_idx').on('document_upload').column('expires_at').execute();

  await db.schema
    .createTable('document_read')
    .addColumn('user_id', 'text', (col) => col.notNull())
    .addColumn('document_id', 'uuid', (col) => col.notNull().references('document.id').onDelete('cascade'))
    .addColumn('version', 'integer', (col) => col.notNull())
    .addColumn('read_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('document_read_pkey', ['user_id', 'document_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('document_read').execute();
  await db.schema.dropTable('document_upload').execute();
  await db.schema.dropTable('document_version').execute();
  await db.schema.dropTable('document').execute();
}
