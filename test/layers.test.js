// src/'s rooms (src/README.md): includes only point down, and no file grows
// past about 400 lines. scripts/check-layers.js does the reading.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { check } = require('../scripts/check-layers');

test('no include in src/ points up or sideways, no file is over the limit, and binding/ sees only engine/api.h', () => {
  expect(check()).toEqual([]);
});

test('an include that points up is reported', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'layers-'));
  try {
    fs.mkdirSync(path.join(root, 'src', 'mime'), { recursive: true });
    fs.mkdirSync(path.join(root, 'binding'));
    fs.writeFileSync(path.join(root, 'binding', 'addon.cc'), '#include "engine/api.h"\n#include "engine/engine.h"\n');
    fs.mkdirSync(path.join(root, 'src', 'core'));
    fs.writeFileSync(path.join(root, 'src', 'mime', 'a.cpp'), '#include "core/value.h"\n#include "imap/envelope.h"\n');
    fs.writeFileSync(path.join(root, 'src', 'core', 'b.h'), '#include "value.h"\n' + 'x\n'.repeat(500));
    const problems = check(path.join(root, 'src'));
    expect(problems).toEqual(
      expect.arrayContaining([
        'src/mime/a.cpp:2: mime/ includes imap/, which is above it',
        'src/core/b.h:1: include "value.h" does not name its folder',
        'src/core/b.h: 502 lines (limit 410)',
        'binding/addon.cc:2: include "engine/engine.h": the binding sees only engine/api.h and plain data',
      ]),
    );
    expect(problems).toHaveLength(4);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
