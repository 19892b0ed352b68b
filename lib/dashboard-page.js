'use strict';

// The dashboard page: lib/dashboard.html with its scripts (lib/dashboard/*.js,
// named in its `<!-- scripts: ... -->` line) inlined as one <script>, and a CSP
// that admits exactly that script and the page's one <style> by hash. One
// response, no other asset: nothing to resolve against the page's own address.

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

const SCRIPTS = /<!-- scripts: ([^>]*) -->/;

function loadDashboard(dir = __dirname) {
  const template = fs.readFileSync(path.join(dir, 'dashboard.html'), 'utf8');
  const names = SCRIPTS.exec(template)[1].trim().split(/\s+/);
  const code = names.map((name) => {
    const text = fs.readFileSync(path.join(dir, name), 'utf8');
    // It would end the inline script early.
    if (/<\/script/i.test(text)) throw new Error(`${name} must not contain '</script'`);
    return text;
  }).join('\n');
  const html = template.replace(SCRIPTS, () => `<script>\n${code}</script>`);
  const hash = (re) => {
    const m = re.exec(html);
    return m ? `'sha256-${crypto.createHash('sha256').update(m[1]).digest('base64')}'` : "'none'";
  };
  const csp = [
    "default-src 'none'", `script-src ${hash(/<script>([\s\S]*?)<\/script>/)}`, `style-src ${hash(/<style>([\s\S]*?)<\/style>/)}`,
    "connect-src 'self'", "img-src 'self' data:", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
  ].join('; ');
  return { html, csp };
}

module.exports = { loadDashboard };
