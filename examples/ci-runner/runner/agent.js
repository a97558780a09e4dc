// The runner agent: serves the lifecycle hooks and, when /run delivers a job, runs it as an
// unprivileged user. The job's short-lived credentials arrive in the payload, never in the image.
const { spawn } = require('child_process');
const http = require('http');

const PREFIX = '/aws/lambda-microvms/runtime/v1/';
let job;

function startJob(spec) {
  // acknowledge /run at once (it has a short timeout) and do the work afterwards.
  setImmediate(() => {
    const child = spawn('runuser', ['-u', 'runner', '--', '/bin/sh', '-c', String(spec.script || 'true')], {
      cwd: process.env.WORK_DIR,
      env: { PATH: process.env.PATH, HOME: '/home/runner', CI: 'true', JOB_ID: String(spec.jobId || '') },
      stdio: 'inherit',
    });
    child.on('exit', (code) => console.log(JSON.stringify({ jobId: spec.jobId, exitCode: code })));
  });
}

http.createServer((req, res) => {
  let raw = '';
  req.on('data', (chunk) => { raw += chunk; });
  req.on('end', () => {
    const hook = req.method === 'POST' && req.url.startsWith(PREFIX) ? req.url.slice(PREFIX.length) : '';
    let status = 404;
    if (hook === 'ready' || hook === 'validate' || hook === 'suspend' || hook === 'resume' || hook === 'terminate') {
      status = 200;
    } else if (hook === 'run') {
      const body = JSON.parse(raw || '{}');
      const spec = JSON.parse(body.runHookPayload || '{}');
      // /run fires on every VM start, even with no payload: answer 200 or the VM is terminated.
      if (!job && spec.script) {
        job = spec;
        startJob(spec);
      }
      status = 200;
    }
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end('{}');
  });
}).listen(Number(process.env.HOOKS_PORT || 9000), '0.0.0.0');
