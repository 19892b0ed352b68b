'use strict';

// The public .d.ts files must compile under --strict without skipLibCheck, and
// test/types/consumer.ts's @ts-expect-error lines must each be a real error
// (tsc fails on an unused directive), so a type that loosens is caught too.
// consumer.ts and cluster.ts import the package by name ('imap-push',
// 'imap-push/testing', 'imap-push/express', 'imap-push/cluster'), and compile
// twice: as the package resolves itself through package.json's `exports`
// (moduleResolution node16), and installed in an app's node_modules under the
// classic resolution that reads `types` and `typesVersions` instead.
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const ts = require('typescript');

const tsc = require.resolve('typescript/bin/tsc');
const root = path.join(__dirname, '..');
const typesDir = path.join(__dirname, 'types');

function compile(project) {
  try {
    execFileSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (err) {
    return `${err.stdout}${err.stderr}`;
  }
}

test('consumer.ts compiles with tsc --strict, through exports, and every expected error happens', () => {
  expect(compile(typesDir)).toBe('');
}, 120000);

test('the same files compile from an app\'s node_modules under moduleResolution node (typesVersions)', () => {
  const app = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-push-types-'));
  try {
    fs.mkdirSync(path.join(app, 'node_modules'));
    fs.symlinkSync(root, path.join(app, 'node_modules', 'imap-push'), 'dir');
    fs.symlinkSync(path.join(root, 'node_modules', 'pino'), path.join(app, 'node_modules', 'pino'), 'dir');
    for (const f of ['consumer.ts', 'cluster.ts']) fs.copyFileSync(path.join(typesDir, f), path.join(app, f));
    fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, target: 'es2020', module: 'commonjs', moduleResolution: 'node', esModuleInterop: true, // pino's own types need it
        types: ['node'], typeRoots: [path.join(root, 'node_modules', '@types')],
      },
      files: ['consumer.ts', 'cluster.ts'],
    }));
    expect(compile(app)).toBe('');
  } finally {
    fs.rmSync(app, { recursive: true, force: true });
  }
}, 120000);

// What consumer.ts touches, resolved by the type checker: each method of
// MailEngine, each event of MailEngineEvents (engine.on('name')) and each
// member of the option interfaces must be used at least once.
test('consumer.ts uses every method, event and option', () => {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(typesDir, 'tsconfig.json'), {}, {
    ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); },
  });
  const program = ts.createProgram(config.fileNames, config.options);
  const checker = program.getTypeChecker();
  const lib = path.join(root, 'lib') + path.sep;
  const ownerOf = (decl) => (decl.parent && decl.parent.name ? decl.parent.name.text : null);
  const used = new Set();
  const record = (symbol) => {
    for (const d of (symbol && symbol.getDeclarations()) || []) {
      if (d.getSourceFile().fileName.startsWith(lib) && ownerOf(d)) used.add(`${ownerOf(d)}.${symbol.getName()}`);
    }
  };
  const isEngine = (expr) => /^MailEngine\b/.test(checker.typeToString(checker.getTypeAtLocation(expr)));
  const source = program.getSourceFile(path.join(typesDir, 'consumer.ts'));
  // A line meant not to compile uses nothing.
  const expectsError = (node) => (ts.getLeadingCommentRanges(source.text, node.getFullStart()) || [])
    .some((c) => source.text.slice(c.pos, c.end).includes('@ts-expect-error'));
  const visit = (node) => {
    if (ts.isExpressionStatement(node) && expectsError(node)) return;
    if (ts.isPropertyAccessExpression(node)) {
      record(checker.getSymbolAtLocation(node.name));
      if ((node.name.text === 'on' || node.name.text === 'once') && isEngine(node.expression) && ts.isCallExpression(node.parent)
        && node.parent.arguments[0] && ts.isStringLiteral(node.parent.arguments[0])) {
        used.add(`MailEngineEvents.${node.parent.arguments[0].text}`);
      }
    }
    if (ts.isObjectLiteralExpression(node)) {
      const contextual = checker.getContextualType(node);
      for (const t of contextual ? (contextual.isUnion() ? contextual.types : [contextual]) : []) {
        for (const p of node.properties) if (p.name && ts.isIdentifier(p.name)) record(checker.getPropertyOfType(t, p.name.text));
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);

  const declared = [];
  const interfaces = ['EngineOptions', 'EngineLoggerOption', 'Logger', 'IdleOptions', 'KeepaliveOptions', 'ReconnectOptions',
    'TimeoutOptions', 'PoolOptions', 'SyncOptions', 'AuthOptions', 'TlsOptions', 'AccountBase', 'NotificationOptions',
    'NotificationFilter', 'EventsOptions', 'MessagesOptions', 'AppendOptions', 'StoreOptions', 'SearchCriteria',
    'ParseMessageOptions', 'MailEngineEvents', 'MailEngine'];
  for (const f of ['index.d.ts', 'notify.d.ts', 'mime.d.ts']) {
    ts.forEachChild(program.getSourceFile(path.join(lib, f)), (node) => {
      if (!(ts.isInterfaceDeclaration(node) || ts.isClassDeclaration(node)) || !interfaces.includes(node.name.text)) return;
      for (const m of node.members) {
        if (!m.name || !ts.isIdentifier(m.name)) continue; // constructor
        if (m.type && m.type.kind === ts.SyntaxKind.NeverKeyword) continue; // declared only to be refused
        if (node.name.text === 'MailEngine' && ['on', 'once', 'off', 'emit'].includes(m.name.text)) continue;
        declared.push(`${node.name.text}.${m.name.text}`);
      }
    });
  }
  expect(declared.length).toBeGreaterThan(100);
  expect([...new Set(declared)].filter((k) => !used.has(k)).sort()).toEqual([]);
}, 120000);
