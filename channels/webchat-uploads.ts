import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Attachment } from '../src/domain.js';
import type { Logger } from '../src/logger.js';
import { WebchatFileModel, WebchatUnsentUploadModel } from '../src/db/models/index.js';
import { isDatabaseUnavailable, isDuplicateKeyError } from '../src/db/errors.js';
import { DeliveryError } from '../src/outbox/errors.js';
import type { VisitorSession } from './webchat-token.js';
import type { VisitorLimits } from './webchat-limits.js';
import type { WebchatMetrics } from './webchat-connection.js';
import { REF_PREFIX, cleanFileName, fileUrl, kindOf, looksLike, type FileView } from './webchat-views.js';

/** Uploads in progress at once: per visitor, per address, in this process (each holds up to WEBCHAT_MAX_FILE_SIZE in memory). */
const CONCURRENT = { visitor: 2, address: 4, all: 16 };
/** Unsent uploads deleted per query of the sweep. */
const SWEEP_BATCH = 200;

export interface UploadOptions {
  maxFileSize: number;
  allowedFileTypes: string[];
  unsentUploadTtlMs: number;
  limits: VisitorLimits;
  sessionOf(token: unknown): VisitorSession | undefined;
  clientIp(request: FastifyRequest): string;
  logger: Logger;
  metrics?: WebchatMetrics;
  now: () => number;
}

type Refusal = { status: number; code: string; error: string; metric?: 'rate' | 'volume' | 'concurrent' | 'size' | 'type'; retryAfterMs?: number };

/**
 * Files of the web chat: visitors' uploads (POST /webchat/upload), the files a visitor may see
 * (GET /webchat/files/:id) and operators' attachments kept for the widget. An upload is admitted before its body
 * is read (session, rate, type, declared size, uploads in progress, hourly volume), then read as a stream and
 * refused as soon as it grows past a limit. Stored uploads that no message sends are deleted after
 * WEBCHAT_UNSENT_UPLOAD_TTL by a periodic sweep of the small `webchatunsentuploads` collection.
 */
export class WebchatUploads {
  private readonly inProgress = new Map<string, number>();
  private sweeper?: NodeJS.Timeout;
  private sweeping?: Promise<number>;

  constructor(private readonly options: UploadOptions) {}

  start(): void {
    const every = Math.min(10 * 60_000, Math.max(1000, Math.floor(this.options.unsentUploadTtlMs / 4)));
    this.sweeper = setInterval(() => void this.sweep().catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not delete unsent web chat uploads; trying again later')), every);
    this.sweeper.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    await this.sweeping?.catch(() => undefined);
  }

  async registerRoutes(scope: FastifyInstance): Promise<void> {
    scope.get<{ Params: { id: string }; Querystring: { token?: string } }>('/webchat/files/:id', async (request, reply) => {
      const session = this.options.sessionOf(request.query.token ?? bearer(request));
      const file = session && /^[\w-]{1,80}$/.test(request.params.id) ? await WebchatFileModel.findById(request.params.id) : null;
      // The same answer for "no such file" and "not yours": a visitor learns nothing about other visitors' files.
      if (!session || !file || file.visitorId !== session.visitorId) return reply.code(404).send({ error: 'not found' });
      const inline = file.mimeType.startsWith('image/');
      return reply
        .header('content-type', file.mimeType)
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .header('cross-origin-resource-policy', 'cross-origin')
        .header('cache-control', 'private, max-age=3600')
        .header('content-disposition', `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(file.fileName)}`)
        .send(Buffer.from(file.data));
    });
    await scope.register(async (uploads) => {
      // The body is read in the handler, as it arrives, not buffered by fastify first.
      uploads.removeAllContentTypeParsers();
      uploads.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
      uploads.post('/webchat/upload', { onRequest: (request, reply) => this.admit(request, reply) }, (request, reply) => this.receive(request, reply));
    });
  }

  /** The visitor sent these files in a message: they are kept from now on. Called before the message is stored. */
  async markSent(fileIds: string[]): Promise<void> {
    if (fileIds.length > 0) await WebchatUnsentUploadModel.deleteMany({ _id: { $in: fileIds } });
  }

  /** Deletes the uploads older than the TTL that no message sent; returns how many. */
  sweep(): Promise<number> {
    this.sweeping ??= (async () => {
      let deleted = 0;
      try {
        for (;;) {
          const due = await WebchatUnsentUploadModel.find({ at: { $lt: new Date(this.options.now() - this.options.unsentUploadTtlMs) } }, { _id: 1 }).limit(SWEEP_BATCH).lean();
          if (due.length === 0) break;
          const ids = due.map((d) => d._id);
          await WebchatFileModel.deleteMany({ _id: { $in: ids } });
          await WebchatUnsentUploadModel.deleteMany({ _id: { $in: ids } });
          deleted += ids.length;
          this.options.metrics?.webchatUnsentUploadsDeleted.inc(ids.length);
          if (due.length < SWEEP_BATCH) break;
        }
      } finally {
        this.sweeping = undefined;
      }
      if (deleted > 0) this.options.logger.info({ deleted }, 'deleted web chat uploads that no message sent');
      return deleted;
    })();
    return this.sweeping;
  }

  /** An operator's attachment with inline bytes, stored so the widget can fetch it; idempotent across retries. */
  async keepOperatorFile(visitorId: string, fileId: string, attachment: Attachment): Promise<FileView> {
    const view: FileView = { kind: attachment.kind, fileName: attachment.fileName ?? attachment.kind, mimeType: attachment.mimeType, size: attachment.size };
    if (attachment.ref?.startsWith(`${REF_PREFIX}:`)) return { ...view, url: fileUrl(attachment.ref.slice(REF_PREFIX.length + 1)) };
    if (!attachment.dataBase64) return view;
    const data = Buffer.from(attachment.dataBase64, 'base64');
    const mimeType = attachment.mimeType ?? 'application/octet-stream';
    try {
      await WebchatFileModel.create({ _id: fileId, visitorId, fileName: view.fileName, mimeType, size: data.length, data });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw DeliveryError.transient(`could not store the file for the web chat: ${(error as Error).message}`);
    }
    return { ...view, mimeType, size: data.length, url: fileUrl(fileId) };
  }

  /** Refuses an upload before its body is read. */
  private async admit(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const session = this.options.sessionOf(bearer(request));
    if (!session) return void reply.code(401).send({ error: 'your chat session has expired', code: 'session' });
    const ip = this.options.clientIp(request);
    const refusal = this.refusalOf(session.visitorId, ip, mimeTypeOf(request), Number(request.headers['content-length'] ?? NaN));
    if (refusal) return void refuse(reply, refusal, this.options.metrics);
    const keys = [`visitor:${session.visitorId}`, `ip:${ip}`, 'all'];
    for (const key of keys) this.inProgress.set(key, (this.inProgress.get(key) ?? 0) + 1);
    // However the request ends (stored, refused, the client went away), its place is freed.
    reply.raw.once('close', () => {
      for (const key of keys) {
        const left = (this.inProgress.get(key) ?? 1) - 1;
        if (left > 0) this.inProgress.set(key, left);
        else this.inProgress.delete(key);
      }
    });
  }

  private refusalOf(visitorId: string, ip: string, mimeType: string, declared: number): Refusal | undefined {
    const { limits, maxFileSize } = this.options;
    const wait = limits.buckets.take([limits.visitor(visitorId), limits.address(ip)]);
    if (wait > 0) return { status: 429, code: 'rate_limited', metric: 'rate', error: 'too many requests, try again in a moment', retryAfterMs: wait };
    if (!this.typeAllowed(mimeType)) return { status: 415, code: 'type', metric: 'type', error: `files of type ${mimeType || 'unknown'} are not accepted` };
    if (declared > maxFileSize) return { status: 413, code: 'size', metric: 'size', error: `the file is larger than ${maxFileSize} bytes` };
    const busy = (this.inProgress.get(`visitor:${visitorId}`) ?? 0) >= CONCURRENT.visitor || (this.inProgress.get(`ip:${ip}`) ?? 0) >= CONCURRENT.address || (this.inProgress.get('all') ?? 0) >= CONCURRENT.all;
    if (busy) return { status: 429, code: 'busy', metric: 'concurrent', error: 'other uploads are still in progress; please send this file when they are done', retryAfterMs: 2000 };
    return this.volumeRefusal(visitorId, ip, Number.isFinite(declared) ? declared : 1);
  }

  private volumeRefusal(visitorId: string, ip: string, bytes: number): Refusal | undefined {
    const budget = this.options.limits.uploadVolume(visitorId, ip);
    const short = budget.find((limit) => this.options.limits.buckets.available(limit) < bytes);
    if (!short) return undefined;
    const missing = bytes - this.options.limits.buckets.available(short);
    const retryAfterMs = Math.ceil((Math.min(missing, short.capacity!) / short.perMinute) * 60_000);
    return { status: 429, code: 'volume', metric: 'volume', error: `you have uploaded too much in the last hour; please try again in ${Math.max(1, Math.ceil(retryAfterMs / 60_000))} min`, retryAfterMs };
  }

  private async receive(request: FastifyRequest, reply: FastifyReply) {
    const session = this.options.sessionOf(bearer(request))!;
    const ip = this.options.clientIp(request);
    const mimeType = mimeTypeOf(request);
    const budget = this.options.limits.uploadVolume(session.visitorId, ip);
    const body = await readUpload(request.body as Readable, (size, head, chunk) => {
      // Every byte read counts against the hour's volume, stored or not.
      this.options.limits.buckets.charge(budget, chunk);
      if (size > this.options.maxFileSize) return { status: 413, code: 'size', metric: 'size', error: `the file is larger than ${this.options.maxFileSize} bytes` };
      if (head && mimeType.startsWith('image/') && !looksLike(mimeType, head)) return { status: 415, code: 'type', metric: 'type', error: `the file is not a ${mimeType} image` };
      return this.volumeRefusal(session.visitorId, ip, 0);
    });
    if ('refusal' in body) return refuse(reply.header('connection', 'close'), body.refusal, this.options.metrics);
    if ('aborted' in body) return reply.code(400).send({ error: 'the upload was interrupted', code: 'aborted' });
    const data = Buffer.concat(body.chunks);
    if (data.length === 0) return reply.code(400).send({ error: 'the file is empty', code: 'empty' });
    if (mimeType.startsWith('image/') && !looksLike(mimeType, data)) return refuse(reply, { status: 415, code: 'type', metric: 'type', error: `the file is not a ${mimeType} image` }, this.options.metrics);
    const id = randomBytes(16).toString('base64url');
    const fileName = cleanFileName(request.headers['x-file-name']);
    try {
      // Listed as unsent first: a file is never stored without the sweep knowing of it.
      await WebchatUnsentUploadModel.create({ _id: id, visitorId: session.visitorId, at: new Date(this.options.now()) });
      await WebchatFileModel.create({ _id: id, visitorId: session.visitorId, fileName, mimeType, size: data.length, data });
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      return reply.code(503).header('retry-after', '5').send({ error: 'the chat cannot take files right now; please try again in a moment', code: 'unavailable' });
    }
    return { id, fileName, mimeType, size: data.length, kind: kindOf(mimeType), url: fileUrl(id) };
  }

  private typeAllowed(mimeType: string): boolean {
    return this.options.allowedFileTypes.some((allowed) => allowed === mimeType || (allowed.endsWith('/*') && mimeType.startsWith(allowed.slice(0, -1))));
  }
}

type Check = (size: number, head: Buffer | undefined, chunkBytes: number) => Refusal | undefined;

/**
 * Reads a request body chunk by chunk, checking each step; stops reading (without destroying the connection, so the
 * refusal can still be answered) as soon as a check fails. `head` is given once, when the first 12 bytes are in.
 */
function readUpload(stream: Readable, check: Check): Promise<{ chunks: Buffer[] } | { refusal: Refusal } | { aborted: true }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let headChecked = false;
    const finish = (outcome: { chunks: Buffer[] } | { refusal: Refusal } | { aborted: true }) => {
      stream.off('data', onData).off('end', onEnd).off('error', onAbort).off('close', onClose);
      resolve(outcome);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      chunks.push(chunk);
      let head: Buffer | undefined;
      if (!headChecked && size >= 12) {
        headChecked = true;
        head = Buffer.concat(chunks).subarray(0, 12);
      }
      const refusal = check(size, head, chunk.length);
      if (!refusal) return;
      stream.pause();
      finish({ refusal });
    };
    const onEnd = () => finish({ chunks });
    const onAbort = () => finish({ aborted: true });
    const onClose = () => setImmediate(() => finish({ aborted: true }));
    stream.on('data', onData).on('end', onEnd).on('error', onAbort).on('close', onClose);
  });
}

function refuse(reply: FastifyReply, refusal: Refusal, metrics: WebchatMetrics | undefined) {
  if (refusal.metric) metrics?.webchatUploadsRefused.inc({ reason: refusal.metric });
  if (refusal.retryAfterMs) reply.header('retry-after', String(Math.ceil(refusal.retryAfterMs / 1000)));
  return reply.code(refusal.status).send({ error: refusal.error, code: refusal.code, ...(refusal.retryAfterMs ? { retryAfterMs: refusal.retryAfterMs } : {}) });
}

export function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
}

function mimeTypeOf(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}
