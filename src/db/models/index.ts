export * from './customer.js';
export * from './conversation.js';
export * from './conversation-event.js';
export * from './message.js';
export * from './operator.js';
export * from './outbox.js';
