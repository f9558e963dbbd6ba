import { describe, expect, it } from 'vitest';
import { useTestDatabase } from './support/database.js';
import { createOperator, inbound } from './support/factories.js';
import { testLogger } from './support/logger.js';
import { createInbox } from '../src/inbox.js';
import { canTransition, transition } from '../src/conversations/lifecycle.js';
import { IllegalTransitionError } from '../src/conversations/errors.js';
import { closeConversation, forwardConversation, replyToCustomer, reopenConversation, takeConversation, OperatorActionError } from '../src/conversations/operator-actions.js';
import { ConversationEventModel, ConversationModel } from '../src/db/models/index.js';

useTestDatabase();
const inbox = createInbox({ reopenWindowMs: 24 * 3600_000, logger: testLogger });

async function newConversation() {
  const result = await inbox.receive(inbound());
  if (result.status !== 'stored') throw new Error('not stored');
  return result.conversation;
}

describe('conversation lifecycle', () => {
  it('allows only the transitions of the design', () => {
    expect(canTransition('new', 'active')).toBe(true);
    expect(canTransition('closed', 'archived')).toBe(true);
    expect(canTransition('closed', 'closed')).toBe(false);
    expect(canTransition('archived', 'active')).toBe(false);
    expect(canTransition('new', 'archived')).toBe(false);
  });

  it('refuses to close a closed chat with a clear error and changes nothing', async () => {
    const operator = await createOperator();
    const closed = await closeConversation(await newConversation(), operator, 'solved');
    await expect(transition(closed, 'closed', { actor: { kind: 'system' } })).rejects.toThrow(IllegalTransitionError);
    await expect(closeConversation(closed, operator, 'other')).rejects.toThrow(`Chat #${closed.number} is already closed.`);
    const stored = await ConversationModel.findById(closed._id);
    expect(stored?.closeReason).toBe('solved');
    expect(await ConversationEventModel.countDocuments({ conversation: closed._id, to: 'closed' })).toBe(1);
  });

  it('take makes the operator the owner and the chat active', async () => {
    const operator = await createOperator();
    const taken = await takeConversation(await newConversation(), operator);
    expect(taken.status).toBe('active');
    expect(String(taken.owner)).toBe(String(operator._id));
  });

  it('refuses a take of a chat someone else is handling', async () => {
    const [alice, bob] = [await createOperator(), await createOperator()];
    const taken = await takeConversation(await newConversation(), alice);
    await expect(takeConversation(taken, bob)).rejects.toThrow(OperatorActionError);
  });

  it('an operator reply to a new chat makes them owner, stores the first response time and awaits the customer', async () => {
    const operator = await createOperator();
    const conversation = await newConversation();
    await replyToCustomer({ conversation, operator, text: 'Hi, how can I help?', at: new Date(conversation.createdAt.getTime() + 42_000) });
    const after = await ConversationModel.findById(conversation._id);
    expect(after?.status).toBe('awaiting');
    expect(String(after?.owner)).toBe(String(operator._id));
    expect(after?.firstResponseSeconds).toBe(42);
    expect(after?.counts?.out).toBe(1);
  });

  it('a customer message while awaiting makes the chat active again, owner kept', async () => {
    const operator = await createOperator();
    const conversation = await newConversation();
    await replyToCustomer({ conversation, operator, text: 'answer' });
    const result = await inbox.receive(inbound());
    expect(result.status === 'stored' && result.conversation.status).toBe('active');
    expect(result.status === 'stored' && String(result.conversation.owner)).toBe(String(operator._id));
  });

  it('forward moves the chat to transferred with the new owner, and the comment is in the log', async () => {
    const [alice, bob] = [await createOperator(), await createOperator()];
    const conversation = await takeConversation(await newConversation(), alice);
    const forwarded = await forwardConversation(conversation, alice, bob, 'billing question');
    expect(forwarded.status).toBe('transferred');
    expect(String(forwarded.owner)).toBe(String(bob._id));
    expect(String(forwarded.transferredFrom)).toBe(String(alice._id));
    const event = await ConversationEventModel.findOne({ conversation: conversation._id, to: 'transferred' });
    expect(event).toMatchObject({ from: 'active', comment: 'billing question', actor: { kind: 'operator', name: alice.name } });
  });

  it('close records reason and resolution time; reopen clears them', async () => {
    const operator = await createOperator();
    const conversation = await newConversation();
    const closed = await closeConversation(conversation, operator, 'solved', 'refund issued');
    expect(closed).toMatchObject({ status: 'closed', closeReason: 'solved', closeComment: 'refund issued' });
    expect(closed.resolutionSeconds).toBeGreaterThanOrEqual(0);
    const reopened = await reopenConversation(closed, operator);
    expect(reopened.status).toBe('active');
    expect(reopened.closeReason).toBeUndefined();
    await expect(reopenConversation(reopened, operator)).rejects.toThrow('is active, not closed');
  });

  it('records every transition with who, when, from, to and why', async () => {
    const operator = await createOperator();
    const conversation = await newConversation();
    const taken = await takeConversation(conversation, operator);
    await closeConversation(taken, operator, 'no_response');
    const events = await ConversationEventModel.find({ conversation: conversation._id }).sort({ at: 1 }).lean();
    expect(events.map((e) => [e.from, e.to, e.reason])).toEqual([
      [null, 'new', undefined],
      ['new', 'active', 'taken'],
      ['active', 'closed', 'no_response'],
    ]);
    expect(events[2]?.actor).toMatchObject({ kind: 'operator', name: operator.name });
  });
});
