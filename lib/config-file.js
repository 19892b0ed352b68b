'use strict';

// The CLI's config file: read, parsed and checked with one-line errors that
// name the file, and the line and column of a syntax error, but never quote the
// file. A config holds passwords, and JSON.parse's own messages quote the text
// around the error ("... "pass":'S3cr3t'... is not valid JSON").

const fs = require('fs');
const { normalizeEngineOptions, normalizeAccount } = require('./options');

const SHAPE = '{"engine": {...}, "accounts": [{"id": ..., "host": ..., "user": ..., "pass": ...}]}';

class ConfigError extends Error {
  constructor(file, where, expectation) {
    super(`config file '${file}'${where ? `, ${where}` : ''}: ${expectation}`);
    this.name = 'ConfigError';
    this.code = 'INVALID_CONFIG';
  }
}

const READ_ERRORS = { ENOENT: 'does not exist', EACCES: 'is not readable (permission denied)', EISDIR: 'is a directory, not a file' };

/**
 * The offset of the first JSON syntax error in text and what was expected
 * there, or null for valid JSON. Only positions and expectations come out of
 * it, never the text.
 */
function syntaxError(text) {
  let i = 0;
  const fail = (expected) => {
    throw Object.assign(new Error('syntax'), { at: i, expected });
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i += 1;
  };
  const literal = (word) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail('a JSON value (strings and names in double quotes)');
  };
  const string = () => {
    if (text[i] !== '"') fail('a string in double quotes');
    i += 1;
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) fail('no raw control characters or line breaks inside a string');
      if (text[i] === '\\') {
        i += 1;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail('four hex digits after \\u');
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i]) || i >= text.length) fail('a valid escape after a backslash');
      }
      i += 1;
    }
    if (i >= text.length) fail('the closing double quote of a string');
    i += 1;
  };
  const number = () => {
    const re = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) fail('a JSON value (strings and names in double quotes)');
    i += m[0].length;
  };
  const list = (close, item) => {
    i += 1;
    ws();
    if (text[i] === close) {
      i += 1;
      return;
    }
    for (;;) {
      item();
      ws();
      if (text[i] === ',') {
        i += 1;
        ws();
        if (text[i] === close) fail(`a value after ',' (JSON allows no trailing comma)`);
      } else if (text[i] === close) {
        i += 1;
        return;
      } else fail(`',' or '${close}'`);
    }
  };
  const value = (depth) => {
    if (depth > 200) fail('less deeply nested values');
    ws();
    const c = text[i];
    if (c === '{') {
      list('}', () => {
        string();
        ws();
        if (text[i] !== ':') fail("':' after a key");
        i += 1;
        value(depth + 1);
      });
    } else if (c === '[') list(']', () => value(depth + 1));
    else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else if (c === '-' || (c >= '0' && c <= '9')) number();
    else if (c === undefined) fail('a JSON value, not the end of the file');
    else fail('a JSON value (strings and names in double quotes)');
  };
  try {
    value(0);
    ws();
    if (i < text.length) fail('the end of the file after the top-level value');
    return null;
  } catch (err) {
    if (err.at === undefined) throw err;
    return { at: Math.min(err.at, text.length), expected: err.expected };
  }
}

function lineAndColumn(text, offset) {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
}

const kind = (v) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// The file's top-level object, or a ConfigError saying why not.
function readObject(file, shape) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, null, READ_ERRORS[err.code] || `cannot be read (${err.code || 'error'})`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const bad = syntaxError(text);
  if (bad) {
    const { line, column } = lineAndColumn(text, bad.at);
    throw new ConfigError(file, `line ${line}, column ${column}`, `not valid JSON: expected ${bad.expected}`);
  }
  const config = JSON.parse(text);
  if (!isObject(config)) throw new ConfigError(file, null, `expected an object like ${shape}, got ${kind(config)}`);
  return config;
}

function engineOptionsOf(file, config) {
  if (config.engine !== undefined && !isObject(config.engine)) throw new ConfigError(file, "'engine'", `expected an object of engine options, got ${kind(config.engine)}`);
  try {
    return normalizeEngineOptions(config.engine || {});
  } catch (err) {
    throw new ConfigError(file, "'engine'", err.message);
  }
}

/** Reads and checks a config file; throws a one-line ConfigError. Returns { engine, accounts }. */
function loadConfig(file) {
  const config = readObject(file, SHAPE);
  for (const key of Object.keys(config)) {
    if (key !== 'engine' && key !== 'accounts') throw new ConfigError(file, null, "expected only the keys 'engine' and 'accounts' at the top level");
  }
  const engineOptions = engineOptionsOf(file, config);
  if (config.accounts === undefined) throw new ConfigError(file, null, `'accounts' is missing: expected ${SHAPE}`);
  if (!Array.isArray(config.accounts)) throw new ConfigError(file, "'accounts'", `expected an array of account objects, got ${kind(config.accounts)}`);
  if (config.accounts.length === 0) throw new ConfigError(file, "'accounts'", 'is empty: expected at least one account object');
  const ids = new Map();
  config.accounts.forEach((account, i) => {
    const where = `accounts[${i}]`;
    if (!isObject(account)) throw new ConfigError(file, where, `expected an account object, got ${kind(account)}`);
    try {
      normalizeAccount(account, engineOptions);
    } catch (err) {
      throw new ConfigError(file, where, err.message);
    }
    if (ids.has(account.id)) throw new ConfigError(file, where, `has the same id as accounts[${ids.get(account.id)}]: ids must be unique`);
    ids.set(account.id, i);
  });
  return { engine: config.engine || {}, accounts: config.accounts };
}

/** A cluster worker's config, {"engine": {...}}: its accounts come from Redis. Returns the engine options. */
function loadEngineConfig(file) {
  const config = readObject(file, '{"engine": {...}}');
  for (const key of Object.keys(config)) {
    if (key !== 'engine') throw new ConfigError(file, null, "expected only the key 'engine' (a cluster worker's accounts come from Redis, through Cluster.addAccount)");
  }
  engineOptionsOf(file, config);
  return config.engine || {};
}

module.exports = { loadConfig, loadEngineConfig, syntaxError, ConfigError };
