import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WhatsAppSessionChunkModel, WhatsAppSessionModel } from '../src/db/models/index.js';

const CHUNK_BYTES = 1024 * 1024;

/**
 * RemoteAuth's store (its four methods) on MongoDB/FerretDB. RemoteAuth zips the browser profile to
 * `<dataPath>/<session>.zip` and then calls save({ session }) with the name only, so the store must know
 * the same dataPath; extract({ session, path }) writes the zip where RemoteAuth will unpack it.
 */
export class MongoSessionStore {
  private readonly dataPath: string;

  constructor(dataPath: string) {
    this.dataPath = path.resolve(dataPath);
  }

  async sessionExists({ session }: { session: string }): Promise<boolean> {
    return Boolean(await WhatsAppSessionModel.exists({ _id: session }));
  }

  async save({ session }: { session: string }): Promise<void> {
    const zip = await readFile(path.join(this.dataPath, `${session}.zip`));
    const version = randomUUID();
    const chunks = [];
    for (let offset = 0, n = 0; offset < zip.length || n === 0; offset += CHUNK_BYTES, n++) {
      chunks.push({ session, version, n, data: zip.subarray(offset, offset + CHUNK_BYTES).toString('base64') });
    }
    // New chunks first, then the head: a crash in between leaves the previous version whole and in use.
    await WhatsAppSessionChunkModel.insertMany(chunks);
    await WhatsAppSessionModel.updateOne({ _id: session }, { $set: { version, chunks: chunks.length, size: zip.length, savedAt: new Date() } }, { upsert: true });
    await WhatsAppSessionChunkModel.deleteMany({ session, version: { $ne: version } });
  }

  async extract({ session, path: target }: { session: string; path: string }): Promise<void> {
    const head = await WhatsAppSessionModel.findById(session).lean();
    if (!head) throw new Error(`no stored WhatsApp session "${session}"`);
    const chunks = await WhatsAppSessionChunkModel.find({ session, version: head.version }).sort({ n: 1 }).lean();
    if (chunks.length !== head.chunks) throw new Error(`stored WhatsApp session "${session}" is incomplete (${chunks.length} of ${head.chunks} chunks)`);
    const zip = Buffer.concat(chunks.map((c) => Buffer.from(c.data, 'base64')));
    if (zip.length !== head.size) throw new Error(`stored WhatsApp session "${session}" has ${zip.length} bytes, expected ${head.size}`);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, zip);
  }

  async delete({ session }: { session: string }): Promise<void> {
    await WhatsAppSessionModel.deleteOne({ _id: session });
    await WhatsAppSessionChunkModel.deleteMany({ session });
  }
}
