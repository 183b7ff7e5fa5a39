/**
 * Test documents made on the spot with the real tools: LibreOffice writes
 * DOCX, XLSX and PDF files from HTML and CSV, and a small ZIP writer builds
 * a DOCX whose one entry expands to hundreds of megabytes (a ZIP bomb).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { convertToPdf } from '../../lib/adapters/documents/libreoffice.ts';
import { runTool } from '../../lib/adapters/documents/run-tool.ts';

/** HTML of `pages` pages of Vietnamese text, each page starting on a new sheet. */
export function vietnameseHtml(pages: number, title = 'Báo cáo tổng kết công tác năm 2026'): string {
  const body: string[] = [];
  for (let page = 1; page <= pages; page += 1) {
    body.push(
      `<h1 style="${page > 1 ? 'page-break-before: always' : ''}">${title} — trang ${page}</h1>`,
      `<p>Ủy ban nhân dân huyện A Lưới báo cáo kết quả thực hiện nhiệm vụ phát triển kinh tế – xã hội, trang ${page}.</p>`,
      '<p>Đường truyền tới các xã biên giới được nâng cấp; điểm cầu trực tuyến hoạt động ổn định trong mùa mưa bão.</p>',
    );
  }
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${body.join('\n')}</body></html>`;
}

async function convertWithLibreOffice(sourceName: string, content: string, filter: string, outExtension: string, inputFilter?: string): Promise<Buffer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hop-testdoc-'));
  const profile = await mkdtemp(path.join(tmpdir(), 'hop-testdoc-profile-'));
  try {
    const source = path.join(dir, sourceName);
    await writeFile(source, content);
    const infilter = inputFilter ? [`--infilter=${inputFilter}`] : [];
    await runTool('soffice', [`-env:UserInstallation=file://${profile}`, '--headless', '--norestore', ...infilter, '--convert-to', filter, '--outdir', dir, source], {
      timeoutMs: 120_000,
      env: { ...process.env, HOME: profile },
    });
    return await readFile(path.join(dir, `${path.parse(sourceName).name}.${outExtension}`));
  } finally {
    await rm(dir, { recursive: true, force: true });
    await rm(profile, { recursive: true, force: true });
  }
}

/** A Vietnamese DOCX of `pages` pages, written by LibreOffice Writer from HTML. */
export function makeDocx(pages: number, title?: string): Promise<Buffer> {
  return convertWithLibreOffice('bao-cao.html', vietnameseHtml(pages, title), 'docx:MS Word 2007 XML', 'docx');
}

/** A PDF of `pages` pages, written by LibreOffice from HTML. */
export async function makePdf(pages: number, title?: string): Promise<Buffer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hop-testpdf-'));
  try {
    const source = path.join(dir, 'tai-lieu.html');
    await writeFile(source, vietnameseHtml(pages, title));
    const pdf = await convertToPdf(source, dir, { timeoutMs: 120_000 });
    return await readFile(pdf);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** An XLSX of a small Vietnamese budget table, written by LibreOffice Calc from CSV. */
export function makeXlsx(): Promise<Buffer> {
  const csv = ['Hạng mục,Kinh phí (triệu đồng)', 'Nâng cấp đường truyền xã biên giới,1200', 'Phòng họp thông minh,850', 'Đào tạo cán bộ,150'].join('\n');
  // CSV import options: comma separator (44), double quote (34), UTF-8 (character set 76).
  return convertWithLibreOffice('kinh-phi.csv', csv, 'xlsx:Calc MS Excel 2007 XML', 'xlsx', 'Text - txt - csv (StarCalc):44,34,76');
}

/** Builds a ZIP archive of deflated entries (PKWARE APPNOTE 6.3 local headers, central directory, end record). */
export function buildZip(entries: { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const compressed = deflateRawSync(entry.data, { level: 9 });
    const crc = crc32(entry.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, compressed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** A DOCX whose `word/media/bomb.bin` expands to `expandedBytes` zero bytes (about 1000:1). */
export function makeZipBombDocx(expandedBytes = 300 * 1024 * 1024): Buffer {
  const contentTypes =
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
    '<Default Extension="xml" ContentType="application/xml"/>' +
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>';
  const document =
    '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Tài liệu</w:t></w:r></w:p></w:body></w:document>';
  return buildZip([
    { name: '[Content_Types].xml', data: Buffer.from(contentTypes) },
    { name: 'word/document.xml', data: Buffer.from(document) },
    { name: 'word/media/bomb.bin', data: Buffer.alloc(expandedBytes) },
  ]);
}
