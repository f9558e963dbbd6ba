import mongoose from 'mongoose';
import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable, isDuplicateKeyError } from '../src/db/errors.js';

const { MongoNetworkError, MongoBulkWriteError, MongoServerError, MongoServerSelectionError } = mongoose.mongo;

describe('telling a database outage from a refused write', () => {
  it('counts lost connections, failed server selection and mongoose giving up on its queue as an outage', () => {
    expect(isDatabaseUnavailable(new MongoNetworkError('connection 8 to 127.0.0.1:27017 closed'))).toBe(true);
    expect(isDatabaseUnavailable(new MongoServerSelectionError('Server selection timed out after 10000 ms', { type: 'Unknown' } as never))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('Operation `messages.insertMany()` buffering timed out after 10000ms'), { name: 'MongooseError' }))).toBe(true);
  });

  it("counts the socket's own error, when the server went away while a command was being written, as an outage", () => {
    expect(isDatabaseUnavailable(Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
  });

  it('counts a bulk write that lost its connection as an outage (the driver wraps the network error)', () => {
    const wrapped = new MongoBulkWriteError(new MongoNetworkError('connection 8 to 127.0.0.1:27017 closed') as never, { insertedCount: 0 } as never);
    expect(isDatabaseUnavailable(wrapped)).toBe(true);
  });

  it('counts a primary stepping down as an outage, and a duplicate key as a refusal', () => {
    expect(isDatabaseUnavailable(new MongoServerError({ code: 11600, errmsg: 'interrupted at shutdown' }))).toBe(true);
    const duplicate = new MongoServerError({ code: 11000, errmsg: 'E11000 duplicate key error' });
    expect(isDatabaseUnavailable(duplicate)).toBe(false);
    expect(isDuplicateKeyError(duplicate)).toBe(true);
    expect(isDatabaseUnavailable(new TypeError('a bug'))).toBe(false);
  });
});
