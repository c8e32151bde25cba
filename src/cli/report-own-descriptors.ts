/**
 * The instrumented child for inherit-diff and `run --close-fds` tests: `node report-own-descriptors.js
 * [out.json]` writes the fdscan/audit@1 document of its own descriptors (Windows: handles), as soon
 * as it starts, to out.json (or stdout). A file is the safer channel: it adds no pipe of its own to
 * what is being reported. It composes the probe with a renderer, so it lives in src/, not probes/.
 */
import { writeSync } from 'node:fs';
import { probeFor } from '../platform/probe.js';
import { auditDocument } from '../render/audit-json.js';
import { openReportFile } from '../files/report-file.js';

const text = `${JSON.stringify(auditDocument(probeFor().listDescriptors(process.pid)))}\n`;
const out = process.argv[2];
if (out) openReportFile(out, 'report').write(text);
else writeSync(1, text);
