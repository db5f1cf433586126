// Runs a command as a child that cannot outlive its caller: when the caller's end of this process's standard input
// closes (which the operating system does however the caller exits, even killed), the command is killed too.
//   node exit-with-caller.js <command> [arguments...]
// The first line written is "child <pid>", the command's own process id, for callers that signal it; then the
// command's output follows. SIGTERM and SIGINT are passed on to the command, and this process exits with its code.
'use strict';
const { spawn } = require('node:child_process');

const child = spawn(process.argv[2], process.argv.slice(3), { stdio: ['ignore', 'pipe', 'pipe'] });
process.stdout.write(`child ${child.pid}\n`);
child.stdout.pipe(process.stdout);
child.stderr.pipe(process.stderr);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => child.kill(signal));
}

process.stdin.on('end', () => child.kill('SIGKILL'));
process.stdin.on('error', () => child.kill('SIGKILL'));
process.stdin.resume();
child.on('error', (error) => { process.stderr.write(`${error.message}\n`); process.exit(127); });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
