/**
 * nginx as a plain reverse proxy to the bench mock: the floor a native proxy sets. Debian's `nginx-light`, run
 * unprivileged in the foreground (`daemon off;`, a high port, pid/logs/temp paths in a temp folder), one worker
 * process (on 2 cores the load generator and the mock need the other one; every Node gateway is one process too),
 * keep-alive to the upstream and `proxy_buffering off`, so streamed events pass as they arrive.
 *
 * When /usr/sbin/nginx is missing the bench installs `nginx-light` with apt-get if it runs as root with apt;
 * otherwise nginx is skipped with the reason.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from './ports.ts'
import { processTree } from './proc.ts'
import { spawnRaised, stopChild, type Started } from './processes.ts'

const BINARY = process.env.BENCH_NGINX ?? '/usr/sbin/nginx'
/** One worker: fairest on 2 cores (say so in the output). */
export const NGINX_WORKERS = 1

/** The nginx binary, installed when missing and possible; a string says why it is not there. */
function ensureNginx(): string | { binary: string; version: string; built: string } {
  if (!existsSync(BINARY)) {
    const root = process.getuid?.() === 0
    if (!root || !existsSync('/usr/bin/apt-get')) return `${BINARY} is missing and the bench cannot install it (${root ? 'no apt-get' : 'not root'}): apt-get install nginx-light`
    console.log('(installing nginx-light with apt-get …)')
    try {
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
      execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'nginx-light'], { env, stdio: 'ignore', timeout: 300_000 })
    } catch (error) {
      return `apt-get install -y nginx-light failed: ${(error as Error).message.split('\n')[0]}`
    }
    if (!existsSync(BINARY)) return `apt-get installed nginx-light but ${BINARY} is still missing`
  }
  const built = spawnSync(BINARY, ['-V'], { encoding: 'utf8' })
  const text = `${built.stdout ?? ''}${built.stderr ?? ''}`
  return { binary: BINARY, version: /nginx\/[\d.]+/.exec(text)?.[0] ?? 'nginx', built: text }
}

function config(folder: string, port: number, upstream: URL, fdLimit: number, built: string): string {
  // Debian's build puts the temp folders under /var/lib/nginx: point every module that is compiled in at ours.
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .filter((name) => name === 'client_body' || name === 'proxy' || !built.includes(`--without-http_${name}_module`))
    .map((name) => `  ${name}_temp_path ${join(folder, `${name}_temp`)};`)
  return `daemon off;
master_process on;
worker_processes ${NGINX_WORKERS};
worker_rlimit_nofile ${fdLimit};
pid ${join(folder, 'nginx.pid')};
error_log ${join(folder, 'error.log')} warn;
events {
  worker_connections ${Math.max(1024, fdLimit - 64)};
}
http {
  access_log off;
${temp.join('\n')}
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  upstream mock {
    server ${upstream.host};
    keepalive 1024;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 300s;
    }
  }
}
`
}

function isNginx(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('nginx')
  } catch {
    return false
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => { socket.destroy(); done(true) })
    socket.once('error', () => done(false))
  })
}

/** Starts nginx in front of `mockUrl`; `scratch` holds its folder. A string says why it could not start. */
export async function startNginx(mockUrl: string, scratch: string, fdLimit: number): Promise<(Started & { version: string }) | string> {
  const found = ensureNginx()
  if (typeof found === 'string') return found
  const folder = join(scratch, 'nginx')
  mkdirSync(folder, { recursive: true })
  // Readable by the workers, which drop to `nobody` when the master runs as root.
  chmodSync(scratch, 0o755)
  chmodSync(folder, 0o755)
  const port = await freePort()
  const file = join(folder, 'nginx.conf')
  writeFileSync(file, config(folder, port, new URL(mockUrl), Number.isFinite(fdLimit) ? fdLimit : 65_536, found.built))
  const args = ['-p', folder, '-e', join(folder, 'error.log'), '-c', file]
  try {
    execFileSync(found.binary, [...args, '-t', '-q'], { stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (error) {
    return `nginx -t refused the config: ${String((error as { stderr?: Buffer }).stderr ?? error).trim().split('\n')[0]}`
  }
  const child = spawnRaised(found.binary, args)
  let output = ''
  child.stdout!.on('data', (d: Buffer) => { output += d })
  child.stderr!.on('data', (d: Buffer) => { output += d })
  for (let i = 0; i < 100 && child.exitCode === null; i++) {
    if (await portOpen(port)) {
      const pid = child.pid!
      const stop = async () => {
        const tree = processTree(pid)
        // SIGQUIT: nginx's graceful shutdown (the master waits for its workers); a worker left behind is ended too.
        await stopChild(child, 'SIGQUIT')
        for (const left of tree.filter((p) => p !== pid && isNginx(p))) process.kill(left, 'SIGKILL')
      }
      return { url: `http://127.0.0.1:${port}`, pid, child, output, version: found.version, stop }
    }
    await sleep(100)
  }
  child.kill('SIGKILL')
  return `nginx did not start listening: ${output.trim().split('\n')[0] ?? `exit ${child.exitCode}`}`
}
