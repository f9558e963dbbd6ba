import { OperatorModel } from '../../src/db/models/index.js';

/** The support team the console tests act as: each member's Telegram user, and how they are registered. */
export const bob = { id: 2, first_name: 'Bob', username: 'bob_op' };
export const carol = { id: 3, first_name: 'Carol', username: 'carol_op' };
export const sue = { id: 4, first_name: 'Sue', username: 'sue_sup' };

const registrations = {
  bob: { telegramUserId: bob.id, name: 'Bob', username: bob.username, role: 'operator', onDuty: true },
  carol: { telegramUserId: carol.id, name: 'Carol', username: carol.username, role: 'operator' },
  sue: { telegramUserId: sue.id, name: 'Sue', username: sue.username, role: 'supervisor' },
} as const;

export type TeamMember = keyof typeof registrations;

/** Registers these members as operators: Bob on duty, Carol off duty, Sue a supervisor. */
export async function registerTeam(...members: TeamMember[]): Promise<void> {
  await OperatorModel.create(members.map((member) => registrations[member]));
}
