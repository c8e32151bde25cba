/**
 * The instrumented child for inherit-diff on Windows: `node report-handles.js [out.json]` writes the
 * fdscan/audit@1 document of its own handles, as soon as it starts, to out.json (or stdout).
 * A file is the safer channel: it adds no pipe of its own to what is being reported.
 */
import { writeSync } from 'node:fs';
import { auditWin32Process } from './descriptors.js';
import { auditDocument } from '../../src/render/audit-json.js';
import { openReportFile } from '../../src/report-file.js';

const text = `${JSON.stringify(auditDocument(auditWin32Process(process.pid)))}\n`;
const out = process.argv[2];
if (out) openReportFile(out, 'report').write(text);
else writeSync(1, text);
