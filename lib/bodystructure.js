'use strict';

// messages()' optional fields, shaped from what the engine hands over: the
// BODYSTRUCTURE (RFC 3501 7.4.2) as plain arrays, and the raw header block.
//   bodyStructure: { part, type, parameters, id, description, encoding, size, lines?, md5, disposition,
//                    dispositionParameters, language, location, childNodes? }  (part: '1', '2.1'; null for a root multipart)
//   headers: { [lower-case name]: [raw values, unfolded] }

const lower = (s) => (typeof s === 'string' ? s.toLowerCase() : null);
const text = (s) => (typeof s === 'string' ? s : null);

/** ['CHARSET', 'utf-8', ...] -> { charset: 'utf-8' }; anything else -> {}. */
function parameters(list) {
  const out = {};
  if (!Array.isArray(list)) return out;
  for (let i = 0; i + 1 < list.length; i += 2) if (typeof list[i] === 'string') out[list[i].toLowerCase()] = text(list[i + 1]);
  return out;
}

// The extension data shared by single parts and multiparts: md5 (single only), disposition, language, location.
function extension(out, v, at, single) {
  if (single) out.md5 = text(v[at++]);
  const disposition = v[at];
  out.disposition = Array.isArray(disposition) ? lower(disposition[0]) : null;
  out.dispositionParameters = Array.isArray(disposition) ? parameters(disposition[1]) : {};
  const language = v[at + 1];
  out.language = Array.isArray(language) ? language.filter((l) => typeof l === 'string') : typeof language === 'string' ? [language] : null;
  out.location = text(v[at + 2]);
  return out;
}

function node(v, part, depth) {
  if (!Array.isArray(v) || depth > 32) return null;
  if (Array.isArray(v[0])) {
    const childNodes = [];
    let i = 0;
    for (; i < v.length && Array.isArray(v[i]); i++) childNodes.push(node(v[i], part ? `${part}.${i + 1}` : String(i + 1), depth + 1));
    const out = { part: part || null, type: `multipart/${lower(v[i]) || 'mixed'}`, parameters: parameters(v[i + 1]) };
    extension(out, v, i + 2, false);
    out.childNodes = childNodes.filter(Boolean);
    return out;
  }
  const type = lower(v[0]) || 'text';
  const subtype = lower(v[1]) || 'plain';
  const out = {
    part: part || '1', type: `${type}/${subtype}`, parameters: parameters(v[2]), id: text(v[3]), description: text(v[4]),
    encoding: lower(v[5]), size: typeof v[6] === 'number' ? v[6] : null,
  };
  let at = 7;
  if (type === 'text') {
    out.lines = typeof v[7] === 'number' ? v[7] : null;
    at = 8;
  } else if (type === 'message' && subtype === 'rfc822') {
    // [7] is the inner message's envelope; its body is numbered below this part.
    const inner = v[8];
    const innerPart = Array.isArray(inner) && Array.isArray(inner[0]) ? out.part : `${out.part}.1`;
    const body = node(inner, innerPart, depth + 1);
    out.childNodes = body ? (body.type.startsWith('multipart/') ? body.childNodes : [body]) : [];
    out.lines = typeof v[9] === 'number' ? v[9] : null;
    at = 10;
  }
  return extension(out, v, at, true);
}

function bodyStructure(v) {
  return node(v, null, 0);
}

/** A raw header block -> { name: [values] }, names lower-cased, folded lines joined. */
function headerFields(buf) {
  const out = {};
  const lines = buf.toString('utf8').split(/\r?\n/);
  let current = null;
  for (const line of lines) {
    if (/^[ \t]/.test(line) && current) {
      current.value += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      current = null;
      continue;
    }
    const name = line.slice(0, colon).trim().toLowerCase();
    current = { value: line.slice(colon + 1).trim() };
    (out[name] || (out[name] = [])).push(current);
  }
  for (const name of Object.keys(out)) out[name] = out[name].map((h) => h.value);
  return out;
}

module.exports = { bodyStructure, headerFields };
