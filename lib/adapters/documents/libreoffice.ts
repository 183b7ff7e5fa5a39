import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runTool } from './run-tool.ts';

export interface ConvertOptions {
  /** Time limit of one conversion in ms; the process group is killed past it. */
  timeoutMs: number;
  /** The `soffice` binary; Debian's LibreOffice packages install /usr/bin/soffice. */
  binary?: string;
}

/**
 * Converts an office document to PDF with LibreOffice in headless mode and
 * returns the path of the PDF inside `outDir`. Each conversion gets its own
 * user profile folder (`-env:UserInstallation`), so conversions can run at
 * the same time and a broken profile never outlives one conversion; the
 * folder is removed afterwards. Throws ToolError on failure or time-out, and
 * an Error when LibreOffice exits 0 without writing a PDF (it does that for
 * input it cannot read).
 */
export async function convertToPdf(input: string, outDir: string, options: ConvertOptions): Promise<string> {
  const profile = await mkdtemp(path.join(tmpdir(), 'hop-lo-profile-'));
  try {
    await runTool(
      options.binary ?? 'soffice',
      [
        `-env:UserInstallation=${pathToFileURL(profile).href}`,
        '--headless',
        '--invisible',
        '--nodefault',
        '--nolockcheck',
        '--nologo',
        '--norestore',
        '--convert-to',
        'pdf',
        '--outdir',
        outDir,
        input,
      ],
      // HOME points into the profile too, so LibreOffice writes nothing to the service user's home.
      { timeoutMs: options.timeoutMs, env: { ...process.env, HOME: profile }, cwd: outDir },
    );
    const expected = `${path.parse(input).name}.pdf`;
    const written = (await readdir(outDir)).find((name) => name === expected);
    if (!written) throw new Error(`LibreOffice wrote no PDF for ${path.basename(input)}`);
    return path.join(outDir, written);
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}
