/*
 * Real servers on loopback for the integrations Mattermost tests itself: an S3 object store (s3rver, a
 * Node implementation of the S3 REST API, keeping objects in a folder) and an SMTP server (smtp-server,
 * nodemailer's server library). Each listens on a port of its own and can be stopped and started again
 * on the same port, which makes the address unreachable in between, as a sidecar's drop does.
 */
import {mkdtempSync, rmSync} from 'node:fs';
import {createServer, type Server} from 'node:http';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

import S3rver from 's3rver';
import {SMTPServer} from 'smtp-server';

/** s3rver's built-in credentials: it checks signatures against these. */
export const S3_ACCESS_KEY = 'S3RVER';
export const S3_SECRET_KEY = 'S3RVER';

interface Listener {
  listen(port: number, host: string, cb: () => void): unknown;
  once(e: 'error', cb: (err: Error) => void): unknown;
}

/** Listens on 127.0.0.1 (port 0: a free one) and returns the port; `net` is the underlying net.Server. */
async function listen(server: Listener, net: {address(): unknown}, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const a = net.address() as {port: number} | null;
      resolve(a?.port ?? port);
    });
  });
}

export class LoopbackS3 {
  requests = 0;
  private server: Server | null = null;
  private readonly dir = mkdtempSync(join(tmpdir(), 'egress-s3-'));
  port = 0;

  constructor(readonly bucket: string) {}

  async start(): Promise<void> {
    const s3 = new S3rver({directory: this.dir, silent: true, configureBuckets: [{name: this.bucket}], vhostBuckets: false});
    await s3.configureBuckets();
    const handle = s3.callback();
    this.server = createServer((req, res) => {
      this.requests++;
      handle(req, res);
    });
    this.port = await listen(this.server, this.server, this.port);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async cleanup(): Promise<void> {
    await this.stop();
    rmSync(this.dir, {recursive: true, force: true});
  }
}

export interface ReceivedMail {
  from: string;
  to: string[];
  data: string;
}

export class LoopbackSmtp {
  readonly mails: ReceivedMail[] = [];
  private readonly server: SMTPServer;
  port = 0;

  constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      // Plain SMTP on loopback, as Mattermost's ConnectionSecurity "" speaks it.
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const env = session.envelope;
          this.mails.push({
            from: env.mailFrom === false ? '' : env.mailFrom.address,
            to: env.rcptTo.map((r) => r.address),
            data: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        });
      },
    });
  }

  async start(): Promise<void> {
    // smtp-server keeps its net.Server in `server`.
    this.port = await listen(this.server, (this.server as unknown as {server: {address(): unknown}}).server);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
