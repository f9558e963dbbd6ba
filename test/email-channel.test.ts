import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow } from 'imapflow';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { useStoppableDatabase } from './support/stoppable-database.js';
import { GatewayProcess } from './support/gateway-process.js';
import { createOperator } from './support/factories.js';
import { testLogger } from './support/logger.js';
import { startDovecot, type Dovecot } from './support/dovecot.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { EmailChannel } from '../channels/email.js';
import { resolveEmailConversation } from '../channels/email-threading.js';
import { baseSubject, trimReply } from '../channels/email-mail.js';
import { createInbox, type InboundResult } from '../src/inbox.js';
import { closeConversation, replyToCustomer } from '../src/conversations/operator-actions.js';
import { OutboxWorker } from '../src/outbox/worker.js';
import { channelDeliverer } from '../src/outbox/channel-deliverer.js';
import { deliveryEvents } from '../src/outbox/delivery-events.js';
import { DeliveryError } from '../src/outbox/errors.js';
import { loadConfig, ConfigError } from '../src/config.js';
import { ConversationModel, CustomerModel, EmailCursorModel, MessageModel, OutboxItemModel } from '../src/db/models/index.js';
import type { ChannelSink, InboundMessage } from '../src/domain.js';

// Some tests take the database down and up again: this file runs a database server of its own.
const database = useStoppableDatabase('email');
let dovecot: Dovecot;
let smtp: SmtpSink;
beforeAll(async () => {
  [dovecot, smtp] = await Promise.all([startDovecot(), startSmtpSink()]);
});
afterAll(async () => {
  await Promise.all([dovecot?.stop(), smtp?.close()]);
});

const inbox = createInbox({ reopenWindowMs: 24 * 3600_000, logger: testLogger, resolveConversation: resolveEmailConversation });

async function withImap<T>(work: (client: ImapFlow) => Promise<T>): Promise<T> {
  const client = new ImapFlow({ host: dovecot.host, port: dovecot.port, secure: false, auth: { user: dovecot.user, pass: dovecot.password }, logger: false });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.logout();
  }
}

/** Each test reads its own IMAP folder: the database is emptied between tests, the mail server is not. */
let folders = 0;
async function newFolder(): Promise<string> {
  const name = `Test${++folders}`;
  await withImap((client) => client.mailboxCreate(name));
  return name;
}

async function deliverMail(folder: string, mail: Mail.Options): Promise<void> {
  await deliverMails(folder, [mail]);
}

/** Appends the mails in this order (so the first gets the folder's next UID) over one IMAP connection. */
async function deliverMails(folder: string, mails: Mail.Options[]): Promise<void> {
  const raws = await Promise.all(mails.map((mail) => new MailComposer({ to: 'support@example.com', date: new Date(), ...mail }).compile().build()));
  await withImap(async (client) => {
    for (const raw of raws) await client.append(folder, raw);
  });
}

function mailbox(folder: string, address = 'support@example.com', displayName = 'Example Support') {
  return {
    address,
    displayName,
    imap: { host: dovecot.host, port: dovecot.port, secure: false, user: dovecot.user, password: dovecot.password, mailbox: folder },
    smtp: { host: smtp.host, port: smtp.port, secure: false },
  };
}

function emailChannel(folder: string) {
  return emailChannelOf([mailbox(folder)]);
}

function emailChannelOf(mailboxes: ReturnType<typeof mailbox>[], options: { maxStoreAttempts?: number } = {}) {
  return new EmailChannel({
    mailboxes,
    // Long: new mail must arrive through IDLE, not the polling fallback.
    pollIntervalMs: 60_000,
    maxAttachmentSize: 64 * 1024,
    logger: testLogger,
    reconnect: { baseMs: 100, maxMs: 1000 },
    ...options,
  });
}

/** Hands every mail to the inbox and remembers what the channel delivered, in order. */
function recordingSink() {
  const delivered: InboundMessage[] = [];
  /** Results of the inbox, pushed once it is completely done with a mail (wait on these before acting on the chat). */
  const handled: InboundResult[] = [];
  const sink: ChannelSink = {
    async inbound(message) {
      delivered.push(message);
      handled.push(await inbox.receive(message));
    },
  };
  return { sink, delivered, handled };
}

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function runningChannel(folder: string) {
  const channel = emailChannel(folder);
  const recording = recordingSink();
  await channel.start(recording.sink);
  await until(() => channel.state() === 'up');
  return { channel, ...recording };
}

const storedMessages = () => MessageModel.find({ direction: 'in' }).sort({ createdAt: 1 }).lean();
const cursorOf = (folder: string) => EmailCursorModel.findById(`imap:${dovecot.user}@${dovecot.host}/${folder}`).lean();

describe('e-mail channel', () => {
  it('turns a new mail into a conversation shown to operators: subject first, quoted history and signature trimmed, whole text kept', async () => {
    const folder = await newFolder();
    const { channel } = await runningChannel(folder);
    await deliverMail(folder, {
      from: '"Alice Customer" <Alice@Customer.example>',
      subject: 'Order 42 is late',
      messageId: '<first-42@customer.example>',
      text: 'Hello,\nmy order 42 has not arrived.\n\nOn Mon, 2 Mar 2026, Shop <shop@example.com> wrote:\n> Your order is on its way\n\n-- \nAlice, ACME Corp\n+1 555 0100',
      attachments: [{ filename: 'receipt.txt', content: 'paid 42 EUR', contentType: 'text/plain' }],
    });
    await until(async () => (await storedMessages()).length === 1);
    await channel.stop();

    const [message] = await storedMessages();
    expect(message!.text).toBe('Subject: Order 42 is late\n\nHello,\nmy order 42 has not arrived.');
    expect(message!.meta.find((m) => m.name === 'originalText')?.value).toContain('> Your order is on its way');
    expect(message!.meta.find((m) => m.name === 'messageId')?.value).toBe('<first-42@customer.example>');
    expect(message!.attachments[0]).toMatchObject({ fileName: 'receipt.txt', mimeType: 'text/plain', dataBase64: Buffer.from('paid 42 EUR').toString('base64') });
    expect(await CustomerModel.findOne().lean()).toMatchObject({ channel: 'email', externalChatId: 'alice@customer.example', name: 'Alice Customer', email: 'alice@customer.example' });
    expect(await ConversationModel.findOne().lean()).toMatchObject({ channel: 'email', status: 'new' });
    expect(await OutboxItemModel.countDocuments({ route: 'console', action: 'relay' })).toBe(1);
  });

  it('reads an HTML-only mail as text and leaves out attachments over the size limit, saying so', async () => {
    const folder = await newFolder();
    const { channel } = await runningChannel(folder);
    await deliverMail(folder, {
      from: 'bob@customer.example',
      subject: 'Broken link',
      html: '<p>The <b>download</b> link is broken.</p><p>Thanks</p>',
      attachments: [{ filename: 'huge.bin', content: Buffer.alloc(100 * 1024, 1), contentType: 'application/octet-stream' }],
    });
    await until(async () => (await storedMessages()).length === 1);
    await channel.stop();
    const [message] = await storedMessages();
    expect(message!.text).toMatch(/^Subject: Broken link\n\nThe download link is broken\.\s+Thanks\n\n\[huge\.bin: 100 KB, larger than the 64 KB limit, not shown\]$/);
    expect(message!.attachments).toHaveLength(0);
  });

  it("sends an operator's reply by SMTP as Re: <subject> [#N], threaded to the customer's mail, with HTML and the attachment; a reply to it from another address reopens that chat", async () => {
    const folder = await newFolder();
    const { channel, handled } = await runningChannel(folder);
    await deliverMail(folder, { from: 'carol@customer.example', subject: 'Refund', messageId: '<refund-1@customer.example>', references: '<older@customer.example>', text: 'I want a refund.' });
    await until(() => handled.length === 1);
    const conversation = (await ConversationModel.findOne())!;
    const operator = await createOperator({ name: 'Olga' });
    const reply = await replyToCustomer({
      conversation,
      operator,
      text: 'Refund approved <b>today</b>.\nSee the form.',
      attachments: [{ kind: 'document', fileName: 'form.pdf', mimeType: 'application/pdf', dataBase64: Buffer.from('%PDF-1.4 form').toString('base64') }],
    });
    const worker = new OutboxWorker({ workerId: 'w', deliverers: new Map([['email', channelDeliverer(channel)]]), events: deliveryEvents(), logger: testLogger, leaseMs: 5000, pollIntervalMs: 50, maxAttempts: 3, sendTimeoutMs: 10_000, backoffBaseMs: 50 });
    smtp.mails.length = 0;
    worker.start();
    await until(() => smtp.mails.length === 1);
    await until(async () => (await MessageModel.findById(reply._id).lean())?.delivery?.status === 'sent');
    await worker.stop();

    const sent = smtp.mails[0]!;
    expect(sent.subject).toBe(`Re: Refund [#${conversation.number}]`);
    expect(sent.to && !Array.isArray(sent.to) ? sent.to.text : '').toBe('carol@customer.example');
    expect(sent.from?.value[0]).toMatchObject({ address: 'support@example.com', name: 'Example Support' });
    expect(sent.inReplyTo).toBe('<refund-1@customer.example>');
    expect(sent.references).toEqual(['<older@customer.example>', '<refund-1@customer.example>']);
    expect(sent.text?.trim()).toBe('Refund approved <b>today</b>.\nSee the form.');
    expect(sent.html).toContain('Refund approved &lt;b&gt;today&lt;/b&gt;.<br>');
    expect(sent.attachments.map((a) => [a.filename, a.content.toString()])).toEqual([['form.pdf', '%PDF-1.4 form']]);
    const stored = await MessageModel.findById(reply._id).lean();
    expect(stored?.externalId).toBe(sent.messageId);

    await closeConversation((await ConversationModel.findById(conversation._id))!, operator, 'solved');
    await deliverMail(folder, { from: 'carol.private@home.example', subject: 'Re: Refund', inReplyTo: sent.messageId, references: [sent.messageId!], text: 'Thank you!\n\n> Refund approved' });
    await until(() => handled.length === 2);
    await channel.stop();
    expect(await ConversationModel.countDocuments()).toBe(1);
    expect((await ConversationModel.findById(conversation._id))!.status).not.toBe('closed');
    expect((await storedMessages())[1]).toMatchObject({ conversation: conversation._id, text: 'Thank you!' });
  });

  it('joins replies to their conversation: the same address while it is open, In-Reply-To from other addresses open or closed, [#N] only from the customer', async () => {
    const folder = await newFolder();
    const { channel, handled } = await runningChannel(folder);
    await deliverMail(folder, { from: 'dan@customer.example', subject: 'Invoice', messageId: '<inv-1@customer.example>', text: 'Where is my invoice?' });
    await until(() => handled.length === 1);
    await deliverMail(folder, { from: 'dan@customer.example', subject: 'Re: Invoice', text: 'Any news?' });
    await until(() => handled.length === 2);
    const conversation = (await ConversationModel.findOne())!;
    const operator = await createOperator();

    await deliverMail(folder, { from: 'assistant@dan-company.example', subject: 'Re: Invoice', inReplyTo: '<inv-1@customer.example>', text: 'Dan asked me to follow up.' });
    await until(() => handled.length === 3);

    await closeConversation((await ConversationModel.findById(conversation._id))!, operator, 'solved');
    await deliverMail(folder, { from: 'accounting@dan-company.example', subject: 'Re: Invoice', inReplyTo: '<inv-1@customer.example>', text: 'Dan forwarded this to us.' });
    await until(() => handled.length === 4);

    await closeConversation((await ConversationModel.findById(conversation._id))!, operator, 'solved');
    await deliverMail(folder, { from: 'dan@customer.example', subject: `Invoice question [#${conversation.number}]`, text: 'One more thing.' });
    await until(() => handled.length === 5);

    // A chat number is easy to guess: from someone else it must not put their mail into Dan's conversation.
    await closeConversation((await ConversationModel.findById(conversation._id))!, operator, 'solved');
    await deliverMail(folder, { from: 'stranger@elsewhere.example', subject: `Hello [#${conversation.number}]`, text: 'Let me in.' });
    await until(() => handled.length === 6);
    await channel.stop();

    const messages = await storedMessages();
    expect(messages.slice(0, 5).map((m) => String(m.conversation))).toEqual(Array(5).fill(String(conversation._id)));
    expect(messages.slice(1, 5).map((m) => m.text)).toEqual(['Any news?', 'Dan asked me to follow up.', 'Dan forwarded this to us.', `Subject: Invoice question [#${conversation.number}]\n\nOne more thing.`]);
    expect(String(messages[5]!.conversation)).not.toBe(String(conversation._id));
    expect(await ConversationModel.countDocuments()).toBe(2);
    expect((await ConversationModel.findById(conversation._id))!.status).toBe('closed');
  });

  it('drops bounces and auto-replies without opening a chat, and reads on past them', async () => {
    const folder = await newFolder();
    const { channel, delivered } = await runningChannel(folder);
    await deliverMail(folder, {
      from: 'MAILER-DAEMON@mx.customer.example',
      subject: 'Undelivered Mail Returned to Sender',
      headers: { 'Content-Type': 'multipart/report; report-type=delivery-status; boundary="b1"' },
      text: 'This is the mail system.',
    });
    await deliverMail(folder, { from: 'erin@customer.example', subject: 'Out of office', headers: { 'Auto-Submitted': 'auto-replied' }, text: 'I am away until Monday.' });
    await deliverMail(folder, { from: 'news@shop.example', subject: 'Our sale', headers: { Precedence: 'bulk' }, text: 'Sale!' });
    await deliverMail(folder, { from: 'frank@customer.example', subject: 'Real question', text: 'Do you ship to Norway?' });
    await until(async () => (await storedMessages()).length === 1);
    await until(async () => (await cursorOf(folder))?.lastUid === 4);
    await channel.stop();

    expect(delivered.map((m) => m.externalChatId)).toEqual(['frank@customer.example']);
    expect(await ConversationModel.countDocuments()).toBe(1);
    expect(await CustomerModel.countDocuments()).toBe(1);
  });

  it('processes each mail exactly once across a restart, including mail that arrived while it was stopped', async () => {
    const folder = await newFolder();
    const first = await runningChannel(folder);
    await deliverMail(folder, { from: 'gina@customer.example', subject: 'One', messageId: '<one@customer.example>', text: 'first' });
    await until(async () => (await storedMessages()).length === 1);
    await first.channel.stop();
    expect(first.channel.state()).toBe('stopped');

    await deliverMail(folder, { from: 'gina@customer.example', subject: 'Two', messageId: '<two@customer.example>', text: 'second' });
    const second = await runningChannel(folder);
    await until(async () => (await storedMessages()).length === 2);
    await second.channel.stop();

    expect(first.delivered.map((m) => m.externalMessageId)).toEqual(['<one@customer.example>']);
    expect(second.delivered.map((m) => m.externalMessageId)).toEqual(['<two@customer.example>']);
    expect((await storedMessages()).map((m) => m.text)).toEqual(['Subject: One\n\nfirst', 'Subject: Two\n\nsecond']);
  });

  it('reconnects when the server drops the connection, reports down and up, and reads the mail that came meanwhile', async () => {
    const folder = await newFolder();
    const channel = emailChannel(folder);
    const { sink, delivered } = recordingSink();
    const states: string[] = [];
    await channel.start({ ...sink, stateChanged: (_kind, state) => states.push(state) });
    await until(() => channel.state() === 'up');
    dovecot.kick(dovecot.user);
    await until(() => states.includes('down'));
    await deliverMail(folder, { from: 'hugo@customer.example', subject: 'Still there?', text: 'Hello after the outage' });
    await until(() => delivered.length === 1);
    await channel.stop();
    expect(states).toEqual(['starting', 'up', 'down', 'up', 'stopped']);
    expect((await storedMessages()).map((m) => m.text)).toEqual(['Subject: Still there?\n\nHello after the outage']);
  });

  it('reads several mailboxes and answers each customer from the mailbox they wrote to', async () => {
    const [supportFolder, salesFolder] = [await newFolder(), await newFolder()];
    const channel = emailChannelOf([mailbox(supportFolder), mailbox(salesFolder, 'sales@example.com', 'Example Sales')]);
    const { sink, handled } = recordingSink();
    await channel.start(sink);
    await deliverMail(salesFolder, { from: 'ivan@customer.example', to: 'sales@example.com', subject: 'Bulk order', text: 'Price for 500 units?' });
    await until(() => handled.length === 1);
    await deliverMail(supportFolder, { from: 'judy@customer.example', subject: 'Login', text: 'I cannot log in.' });
    await until(() => handled.length === 2);
    const operator = await createOperator();
    const worker = new OutboxWorker({ workerId: 'w', deliverers: new Map([['email', channelDeliverer(channel)]]), events: deliveryEvents(), logger: testLogger, leaseMs: 5000, pollIntervalMs: 50, maxAttempts: 3, sendTimeoutMs: 10_000, backoffBaseMs: 50 });
    smtp.mails.length = 0;
    worker.start();
    for (const customer of ['ivan@customer.example', 'judy@customer.example']) {
      const conversation = (await ConversationModel.findOne({ customer: (await CustomerModel.findOne({ externalChatId: customer }))!._id }))!;
      await replyToCustomer({ conversation, operator, text: `Hello ${customer}` });
    }
    await until(() => smtp.mails.length === 2);
    await worker.stop();
    await channel.stop();
    const fromOf = (to: string) => smtp.mails.find((m) => (m.to && !Array.isArray(m.to) ? m.to.text : '') === to)!.from?.value[0];
    expect(fromOf('ivan@customer.example')).toMatchObject({ address: 'sales@example.com', name: 'Example Sales' });
    expect(fromOf('judy@customer.example')).toMatchObject({ address: 'support@example.com', name: 'Example Support' });
    expect(smtp.mails.find((m) => m.from?.value[0]?.address === 'sales@example.com')!.messageId).toMatch(/@example\.com>$/);
  });

  it('reports a refused recipient (5xx) as permanent and a temporary SMTP failure (4xx) as transient', async () => {
    const channel = emailChannel('INBOX');
    smtp.failNext(550, 'No such user here');
    const permanent = await channel.send('nobody@customer.example', { text: 'hi', attachments: [] }, { idempotencyKey: 'k-550' }).catch((e: unknown) => e);
    smtp.failNext(451, 'Try again later');
    const transient = await channel.send('later@customer.example', { text: 'hi', attachments: [] }, { idempotencyKey: 'k-451' }).catch((e: unknown) => e);
    expect(permanent).toBeInstanceOf(DeliveryError);
    expect(permanent).toMatchObject({ kind: 'permanent' });
    expect((permanent as Error).message).toMatch(/No such user here/);
    expect(transient).toMatchObject({ kind: 'transient' });
  });
});

describe('e-mail when the database or the gateway fails', () => {
  it('a mail fetched while the database is unreachable is stored once the database is back, and the mailbox position does not skip it', async () => {
    const folder = await newFolder();
    const channel = emailChannel(folder);
    const { sink, handled } = recordingSink();
    const offered: string[] = [];
    const states: string[] = [];
    let outage: Promise<void> | undefined;
    await channel.start({
      async inbound(message) {
        offered.push(message.externalMessageId);
        // The database goes away just as the first mail has been fetched.
        outage ??= database.stop();
        await outage;
        await sink.inbound(message);
      },
      stateChanged: (_kind, state) => states.push(state),
    });
    try {
      await until(() => channel.state() === 'up');
      await deliverMail(folder, { from: 'kim@customer.example', subject: 'Outage', messageId: '<outage-1@customer.example>', text: 'sent as the database fell over' });
      await until(() => offered.length === 1);
      await outage;
      await deliverMail(folder, { from: 'kim@customer.example', subject: 'Re: Outage', messageId: '<outage-2@customer.example>', text: 'sent during the outage' });
      // The reader keeps trying meanwhile (nothing can be stored) and does not give up on the mailbox.
      await new Promise((r) => setTimeout(r, 2500));
      expect(channel.state()).toBe('up');
    } finally {
      await database.start();
    }
    await until(() => handled.length === 2, 30_000);
    await until(async () => (await cursorOf(folder))?.lastUid === 2);
    await channel.stop();

    // The first mail was offered again after the outage: the position had not moved past it.
    expect(offered).toEqual(['<outage-1@customer.example>', '<outage-1@customer.example>', '<outage-2@customer.example>']);
    expect((await storedMessages()).map((m) => m.externalId)).toEqual(['<outage-1@customer.example>', '<outage-2@customer.example>']);
    expect(await OutboxItemModel.countDocuments({ route: 'console', action: 'relay' })).toBe(2);
    // A database outage is not a mailbox outage: operators are not told the e-mail channel is down.
    expect(states).toEqual(['starting', 'up', 'stopped']);
  });

  it('a mail that can never be stored is tried a few times, then skipped (and logged), and the mails after it still arrive', async () => {
    const folder = await newFolder();
    const channel = emailChannelOf([mailbox(folder)], { maxStoreAttempts: 3 });
    const { sink, handled } = recordingSink();
    let refusals = 0;
    await channel.start({
      async inbound(message) {
        if (message.externalMessageId === '<poison@customer.example>') {
          refusals += 1;
          throw new Error('the inbox refuses this mail');
        }
        await sink.inbound(message);
      },
    });
    await deliverMails(folder, [
      { from: 'lea@customer.example', subject: 'Broken', messageId: '<poison@customer.example>', text: 'never stored' },
      { from: 'lea@customer.example', subject: 'Next', messageId: '<after-poison@customer.example>', text: 'stored' },
    ]);
    await until(() => handled.length === 1);
    await until(async () => (await cursorOf(folder))?.lastUid === 2);
    await channel.stop();
    expect(refusals).toBe(3);
    expect((await storedMessages()).map((m) => m.externalId)).toEqual(['<after-poison@customer.example>']);
  });

  it('a gateway killed in the middle of a batch stores, after its restart, the mails it had not stored, each once', { timeout: 180_000 }, async () => {
    const folder = await newFolder();
    const ids = Array.from({ length: 30 }, (_, i) => `<batch-${i + 1}@customer.example>`);
    await deliverMails(
      folder,
      ids.map((messageId, i) => ({
        from: `customer${i % 3}@customer.example`,
        subject: `Batch ${i + 1}`,
        messageId,
        text: `mail ${i + 1}`,
        // Some weight, so that the batch takes long enough to be killed in the middle.
        attachments: [{ filename: `scan-${i + 1}.bin`, content: Buffer.alloc(200 * 1024, i) }],
      })),
    );
    const env = {
      MONGODB_URI: database.uri(),
      EMAIL_ADDRESS: 'support@example.com',
      EMAIL_IMAP_HOST: dovecot.host,
      EMAIL_IMAP_PORT: String(dovecot.port),
      EMAIL_IMAP_SECURE: 'false',
      EMAIL_IMAP_USER: dovecot.user,
      EMAIL_IMAP_PASSWORD: dovecot.password,
      EMAIL_IMAP_MAILBOX: folder,
      EMAIL_SMTP_HOST: smtp.host,
      EMAIL_SMTP_PORT: String(smtp.port),
    };
    const storedIds = async () => (await MessageModel.find({ direction: 'in' }, { externalId: 1 }).lean()).map((m) => m.externalId!);

    const first = new GatewayProcess({ env });
    await first.start();
    try {
      await until(async () => (await storedIds()).length >= 3, 90_000);
    } finally {
      await first.kill9();
    }
    const storedAtCrash = await storedIds();
    expect(storedAtCrash.length, 'the gateway was to die in the middle of the batch').toBeLessThan(ids.length);
    // The stored position never claims a mail that is not stored.
    const position = (await cursorOf(folder))?.lastUid ?? 0;
    expect(storedAtCrash).toEqual(expect.arrayContaining(ids.slice(0, position)));

    const restarted = new GatewayProcess({ env, dir: first.dir });
    await restarted.start();
    try {
      await until(async () => (await storedIds()).length === ids.length, 90_000);
      await until(async () => (await cursorOf(folder))?.lastUid === ids.length);
    } finally {
      expect(await restarted.stop(), await restarted.output()).toBe(0);
    }
    expect((await storedIds()).sort()).toEqual([...ids].sort());
    // Each shown to the operators once.
    expect(await OutboxItemModel.countDocuments({ route: 'console', action: 'relay' })).toBe(ids.length);
  });
});

describe('e-mail configuration', () => {
  it('is off without EMAIL_* variables, and names what is missing when only some are set', () => {
    expect(loadConfig({}).email).toBeUndefined();
    let problems: string[] = [];
    try {
      loadConfig({ EMAIL_ADDRESS: 'support@example.com', EMAIL_IMAP_HOST: 'imap.example.com' });
    } catch (error) {
      if (error instanceof ConfigError) problems = error.problems;
    }
    expect(problems).toEqual([expect.stringMatching(/^EMAIL_SMTP_HOST: required for the e-mail channel/)]);
  });

  it('parses a complete setup with the defaults', () => {
    const config = loadConfig({ EMAIL_ADDRESS: 'support@example.com', EMAIL_IMAP_HOST: 'imap.example.com', EMAIL_SMTP_HOST: 'smtp.example.com', EMAIL_IMAP_PASSWORD: 'secret' });
    expect(config.email).toEqual({
      mailboxes: [
        {
          address: 'support@example.com',
          displayName: undefined,
          imap: { host: 'imap.example.com', port: 993, secure: true, user: 'support@example.com', password: 'secret', mailbox: 'INBOX' },
          smtp: { host: 'smtp.example.com', port: 587, secure: false, user: undefined, password: undefined },
        },
      ],
      pollIntervalMs: 60_000,
      maxAttachmentSize: 10 * 1024 * 1024,
    });
  });

  it('takes more mailboxes from EMAIL_2_* … EMAIL_9_*, and names the variables of an incomplete or repeated one', () => {
    const first = { EMAIL_ADDRESS: 'support@example.com', EMAIL_IMAP_HOST: 'imap.example.com', EMAIL_SMTP_HOST: 'smtp.example.com' };
    const config = loadConfig({ ...first, EMAIL_2_ADDRESS: 'sales@example.com', EMAIL_2_IMAP_HOST: 'imap.sales.example.com', EMAIL_2_IMAP_PORT: '143', EMAIL_2_IMAP_SECURE: 'false', EMAIL_2_SMTP_HOST: 'smtp.sales.example.com' });
    expect(config.email!.mailboxes.map((m) => [m.address, m.imap.host, m.imap.port, m.imap.secure, m.imap.user])).toEqual([
      ['support@example.com', 'imap.example.com', 993, true, 'support@example.com'],
      ['sales@example.com', 'imap.sales.example.com', 143, false, 'sales@example.com'],
    ]);
    const problemsOf = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (error) {
        return error instanceof ConfigError ? error.problems : [String(error)];
      }
    };
    expect(problemsOf({ ...first, EMAIL_3_ADDRESS: 'billing@example.com', EMAIL_3_SMTP_PORT: 'many' })).toEqual([
      expect.stringMatching(/^EMAIL_3_IMAP_HOST: required for the e-mail channel: EMAIL_3_ADDRESS, EMAIL_3_IMAP_HOST, EMAIL_3_SMTP_HOST go together/),
      expect.stringMatching(/^EMAIL_3_SMTP_HOST: required/),
      expect.stringMatching(/^EMAIL_3_SMTP_PORT: expected a port number/),
    ]);
    expect(problemsOf({ ...first, EMAIL_2_ADDRESS: 'SUPPORT@example.com', EMAIL_2_IMAP_HOST: 'imap2', EMAIL_2_SMTP_HOST: 'smtp2' })).toEqual(['EMAIL_2_ADDRESS: SUPPORT@example.com is configured twice']);
  });
});

describe('e-mail text for operators', () => {
  it('cuts quoted history wrapped over two lines, Outlook and Russian quote headers, and the signature', () => {
    expect(trimReply('Yes, please.\n\nOn Tue, 3 Mar 2026 at 10:00, Support <support@example.com>\nwrote:\n> Shall we?')).toBe('Yes, please.');
    expect(trimReply('Done.\n-----Original Message-----\nFrom: Support')).toBe('Done.');
    expect(trimReply('Спасибо!\n\n3 марта 2026 г., Поддержка <support@example.com> написал:\n> Готово')).toBe('Спасибо!');
    expect(trimReply('Thanks\n-- \nBob\nCEO')).toBe('Thanks');
    expect(trimReply('> only a quote')).toBe('> only a quote');
  });

  it('strips reply prefixes and the chat number from a subject', () => {
    expect(baseSubject('Re: Fwd: RE: Order 42 [#17]')).toBe('Order 42');
  });
});
