'use strict';

// parseMessage over test/corpus: each NAME.eml is parsed and compared with
// the fields listed in NAME.json (fields a JSON file leaves out are not
// checked). test/cpp/mime_test.cc checks the same corpus against parseMime.

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { parseMessage } = require('../lib/mime');

const CORPUS = path.join(__dirname, 'corpus');
const cases = fs.readdirSync(CORPUS).filter((f) => f.endsWith('.eml')).map((f) => f.slice(0, -4)).sort();

function actualAttachment(a, expected) {
  const out = {};
  for (const key of Object.keys(expected)) {
    if (key === 'contentText') out[key] = a.content.toString('utf8');
    else if (key === 'sha256') out[key] = crypto.createHash('sha256').update(a.content).digest('hex');
    else out[key] = a[key];
  }
  return out;
}

// The parse result reduced to the expected file's fields, in its JSON form.
function comparable(result, expected) {
  const out = {};
  for (const key of Object.keys(expected)) {
    if (key === 'date') out.date = result.date ? result.date.toISOString() : null;
    else if (key === 'attachments') {
      out.attachments = result.attachments.map((a, i) => actualAttachment(a, expected.attachments[i] || {}));
    } else out[key] = result[key];
  }
  return out;
}

describe('parseMessage corpus', () => {
  test('corpus is present', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  test.each(cases)('%s', async (name) => {
    const raw = fs.readFileSync(path.join(CORPUS, `${name}.eml`));
    const expected = JSON.parse(fs.readFileSync(path.join(CORPUS, `${name}.json`), 'utf8'));
    const result = await parseMessage(raw);
    expect(comparable(result, expected)).toEqual(expected);
    for (const a of result.attachments) {
      expect(Buffer.isBuffer(a.content)).toBe(true);
      expect(a.size).toBe(a.content.length);
    }
  });
});

test('parallel parses on the threadpool give the same results as one at a time', async () => {
  const raws = cases.map((name) => fs.readFileSync(path.join(CORPUS, `${name}.eml`)));
  const sequential = [];
  for (const raw of raws) sequential.push(await parseMessage(raw));
  const parallel = await Promise.all(Array.from({ length: 8 }, () => raws.map((raw) => parseMessage(raw))).flat());
  parallel.forEach((result, i) => expect(result).toEqual(sequential[i % raws.length]));
});

describe('parseMessage input', () => {
  const eml = 'Subject: hi\r\nFrom: a@example.com\r\n\r\nbody\r\n';

  test('accepts a string, a Buffer and a plain Uint8Array alike', async () => {
    const fromString = await parseMessage(eml);
    const fromBuffer = await parseMessage(Buffer.from(eml));
    const fromView = await parseMessage(new Uint8Array(Buffer.from(eml)));
    expect(fromBuffer).toEqual(fromString);
    expect(fromView).toEqual(fromString);
    expect(fromString.subject).toBe('hi');
    expect(fromString.text).toBe('body\n');
  });

  test('a Uint8Array view is read from its own offset', async () => {
    const big = Buffer.from(`XXXX${eml}YYYY`);
    const view = new Uint8Array(big.buffer, big.byteOffset + 4, Buffer.byteLength(eml));
    expect((await parseMessage(view)).text).toBe('body\n');
  });

  test.each([[undefined], [null], [42], [{}], [[1, 2]]])('rejects input %p with a TypeError naming it', (input) => {
    expect(() => parseMessage(input)).toThrow(TypeError);
    expect(() => parseMessage(input)).toThrow(/'input'/);
  });

  test.each([[0], [-1], [1.5], ['10'], [NaN], [Infinity]])('rejects maxBytes %p', (maxBytes) => {
    expect(() => parseMessage(eml, { maxBytes })).toThrow(TypeError);
    expect(() => parseMessage(eml, { maxBytes })).toThrow(/'maxBytes'/);
  });
});

describe('parseMessage limits', () => {
  test('maxBytes cuts the input and flags it; size stays the full length', async () => {
    const attachment = Buffer.alloc(30000, 7).toString('base64').replace(/.{76}/g, '$&\r\n');
    const eml =
      'Subject: big\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
      attachment;
    const full = await parseMessage(eml);
    expect(full.truncated).toBe(false);
    expect(full.attachments[0].size).toBe(30000);
    const cut = await parseMessage(eml, { maxBytes: 10000 });
    expect(cut.truncated).toBe(true);
    expect(cut.size).toBe(Buffer.byteLength(eml));
    expect(cut.subject).toBe('big');
    expect(cut.attachments[0].size).toBeGreaterThan(6000);
    expect(cut.attachments[0].size).toBeLessThan(7500);
  });

  test('nesting far past the depth limit neither crashes nor loses the outer text', async () => {
    const depth = 5000;
    let eml = 'Subject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n';
    for (let i = 0; i < depth; i++) {
      eml += `--b${i}\r\nContent-Type: multipart/mixed; boundary=b${i + 1}\r\n\r\n`;
    }
    eml += `--b${depth}\r\nContent-Type: text/plain\r\n\r\ntoo deep\r\n`;
    eml += '--b1--\r\n--b0\r\nContent-Type: text/plain\r\n\r\nshallow\r\n--b0--\r\n';
    const result = await parseMessage(eml);
    expect(result.truncated).toBe(true);
    expect(result.text).toBe('shallow');
  });
});
