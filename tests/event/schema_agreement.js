// sdk/schema/event.schema.json (ajv, JSON Schema 2020-12) and `journeyctl validate`
// must agree on every file of tests/data/events (see its README.md).
// usage: node schema_agreement.js JOURNEYCTL SOURCE_DIR
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const [journeyctl, sourceDir] = process.argv.slice(2);
if (!journeyctl || !sourceDir) {
  console.error('usage: node schema_agreement.js JOURNEYCTL SOURCE_DIR');
  process.exit(2);
}
const modules = path.join(sourceDir, 'tests', 'node', 'node_modules');
let Ajv2020, addFormats;
try {
  Ajv2020 = require(path.join(modules, 'ajv', 'dist', '2020')).default;
  addFormats = require(path.join(modules, 'ajv-formats')).default;
} catch (e) {
  console.error(`schema_agreement: ajv is not installed in ${modules}; run scripts/test-setup.sh first (${e.message})`);
  process.exit(1);
}

const schema = JSON.parse(fs.readFileSync(path.join(sourceDir, 'sdk', 'schema', 'event.schema.json'), 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strictTypes: false });
addFormats(ajv);
const check = ajv.compile(schema);

const corpus = path.join(sourceDir, 'tests', 'data', 'events');
const excluded = new Map(
  fs.readFileSync(path.join(corpus, 'schema_exclusions.txt'), 'utf8')
    .split('\n').filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => { const [name, ...why] = l.trim().split(/\s+/); return [name, why.join(' ')]; }));

// Strict UTF-8 decoding and JSON.parse stand in for the transport layer.
function schemaVerdict(file) {
  let event;
  try {
    event = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(fs.readFileSync(file)));
  } catch (e) {
    return { valid: false, why: `not JSON: ${e.message}` };
  }
  const valid = check(event);
  return { valid, why: valid ? '' : ajv.errorsText(check.errors) };
}

function cppVerdict(file) {
  const r = spawnSync(journeyctl, ['validate', file], { encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 1) {
    throw new Error(`journeyctl validate ${file} exited ${r.status}: ${r.stderr}${r.error || ''}`);
  }
  return { valid: r.status === 0, why: r.stdout.trim() };
}

let failures = 0, checked = 0;
const fail = (msg) => { failures++; console.log(`FAIL ${msg}`); };
for (const dir of ['valid', 'invalid']) {
  const files = fs.readdirSync(path.join(corpus, dir)).filter((f) => f.endsWith('.json')).sort();
  for (const f of files) {
    const file = path.join(corpus, dir, f);
    const name = path.basename(f, '.json');
    const s = schemaVerdict(file), c = cppVerdict(file);
    const want = dir === 'valid';
    checked++;
    if (c.valid !== want) fail(`${dir}/${f}: journeyctl says ${c.valid ? 'valid' : 'invalid'} (${c.why})`);
    if (dir === 'invalid' && excluded.has(name)) {
      if (!s.valid) fail(`${dir}/${f}: listed in schema_exclusions.txt but the schema rejects it (${s.why}); remove it from the list`);
      continue;
    }
    if (s.valid !== want) fail(`${dir}/${f}: schema says ${s.valid ? 'valid' : 'invalid'} ${s.why}`);
  }
}
for (const name of excluded.keys()) {
  if (!fs.existsSync(path.join(corpus, 'invalid', `${name}.json`))) fail(`schema_exclusions.txt names missing invalid/${name}.json`);
}
console.log(`${checked} files checked, ${excluded.size} excluded from the schema side, ${failures} disagreements`);
process.exit(failures ? 1 : 0);
