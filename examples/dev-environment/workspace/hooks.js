// Lifecycle hooks for the workspace. /run gives each VM its own identity and takes the user's
// per-session settings from runHookPayload; it never receives long-lived credentials.
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');

const PREFIX = '/aws/lambda-microvms/runtime/v1/';
const idePort = Number(process.env.CODE_SERVER_PORT || 8080);

function ideAnswers() {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: idePort, path: '/healthz', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
  });
}

http.createServer((req, res) => {
  let raw = '';
  req.on('data', (chunk) => { raw += chunk; });
  req.on('end', async () => {
    const hook = req.method === 'POST' && req.url.startsWith(PREFIX) ? req.url.slice(PREFIX.length) : '';
    let status = 404;
    if (hook === 'ready' || hook === 'validate') {
      status = (await ideAnswers()) ? 200 : 503;
    } else if (hook === 'run') {
      const body = JSON.parse(raw || '{}');
      const settings = JSON.parse(body.runHookPayload || '{}');
      // every VM of a version starts from one snapshot: make this one unique.
      fs.writeFileSync('/etc/machine-id', crypto.randomBytes(16).toString('hex') + '\n');
      if (settings.gitUserName) {
        fs.writeFileSync('/home/developer/.gitconfig', `[user]\n\tname = ${String(settings.gitUserName).replace(/[^\w .-]/g, '')}\n`);
      }
      status = 200;
    } else if (['resume', 'suspend', 'terminate'].includes(hook)) {
      status = 200;
    }
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end('{}');
  });
}).listen(Number(process.env.HOOKS_PORT || 9000), '0.0.0.0');
