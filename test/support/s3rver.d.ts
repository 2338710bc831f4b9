// s3rver ships no types; this is the part of its API the loopback S3 server uses (see its README).
declare module 's3rver' {
  import type {IncomingMessage, ServerResponse} from 'node:http';

  interface S3rverOptions {
    directory?: string;
    silent?: boolean;
    configureBuckets?: {name: string; configs?: (string | Buffer)[]}[];
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
  }

  export default class S3rver {
    constructor(options?: S3rverOptions);
    configureBuckets(): Promise<void>;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
  }
}
