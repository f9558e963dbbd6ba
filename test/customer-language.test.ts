import { describe, expect, it } from 'vitest';
import { useTestDatabase } from './support/database.js';
import { inbound } from './support/factories.js';
import { testLogger } from './support/logger.js';
import { createInbox } from '../src/inbox.js';
import { CustomerModel } from '../src/db/models/index.js';
import { chooseCustomerLanguage } from '../src/language/customer-language.js';
import { detectLanguage } from '../src/language/detect.js';
import { renderTemplate } from '../src/templates.js';
import type { ChannelKind } from '../src/domain.js';

useTestDatabase();
const inbox = createInbox({ reopenWindowMs: 3600_000, logger: testLogger });
const customerOf = (channel: ChannelKind, externalChatId: string) => CustomerModel.findOne({ channel, externalChatId }).lean();

describe("the customer's language", () => {
  it('is read from the text on channels that do not say it (e-mail, WhatsApp), and the gateway answers in it', async () => {
    await inbox.receive(inbound({ channel: 'email', externalChatId: 'ivan@example.ru', text: 'Здравствуйте! Мой заказ до сих пор не пришёл, помогите пожалуйста' }));
    await inbox.receive(inbound({ channel: 'whatsapp', externalChatId: '4915112345678', text: 'Hello, my parcel has not arrived yet, can you help?' }));

    const ivan = await customerOf('email', 'ivan@example.ru');
    expect(ivan?.language).toBe('ru');
    expect((await customerOf('whatsapp', '4915112345678'))?.language).toBe('en');
    expect(await renderTemplate('messages', 'closed', ivan?.language ?? undefined, { companyName: 'Acme' })).toContain('Этот диалог закрыт');
  });

  it('keeps what the channel says (Telegram language_code, the browser, VK, Messenger) over the text', async () => {
    await inbox.receive(inbound({ channel: 'telegram', externalChatId: '8001', profile: { language: 'ru-RU' }, text: 'Hello, my parcel has not arrived yet, can you help?' }));
    await inbox.receive(inbound({ channel: 'telegram', externalChatId: '8001', profile: {}, text: 'And the second parcel has not arrived either' }));
    expect((await customerOf('telegram', '8001'))?.language).toBe('ru-RU');
  });

  it('is not guessed from a text too short to tell', async () => {
    await inbox.receive(inbound({ channel: 'email', externalChatId: 'short@example.com', text: 'ok, thx' }));
    expect((await customerOf('email', 'short@example.com'))?.language).toBeUndefined();
    expect(detectLanguage('спасибо')).toBeUndefined();
  });

  it('chosen by an operator, stays until given back, whatever the customer writes', async () => {
    await inbox.receive(inbound({ channel: 'email', externalChatId: 'anna@example.com', text: 'Hello, my parcel has not arrived yet, can you help?' }));
    const anna = (await CustomerModel.findOne({ externalChatId: 'anna@example.com' }))!;
    await chooseCustomerLanguage(anna._id, 'ru');
    await inbox.receive(inbound({ channel: 'email', externalChatId: 'anna@example.com', text: 'Thanks, and what about the second parcel I ordered?' }));
    expect((await customerOf('email', 'anna@example.com'))?.language).toBe('ru');

    await chooseCustomerLanguage(anna._id, undefined);
    await inbox.receive(inbound({ channel: 'email', externalChatId: 'anna@example.com', text: 'Thanks, and what about the third parcel I ordered?' }));
    expect((await customerOf('email', 'anna@example.com'))?.language).toBe('en');
  });
});
