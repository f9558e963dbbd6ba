import { z } from 'zod';
import { lenient } from './inbound-events.js';

/**
 * The parts of Messenger's webhook the channel reads. An event must be identifiable (who, which message, when);
 * a detail of the wrong type is dropped rather than the customer's message (see `lenient`).
 */
export const messengerEntrySchema = z.object({ messaging: z.array(z.unknown()).optional() });

const attachmentSchema = z
  .object({
    type: z.string(),
    payload: lenient(
      z.object({
        url: lenient(z.string()),
        sticker_id: lenient(z.number()),
        title: lenient(z.string()),
        coordinates: lenient(z.object({ lat: z.number(), long: z.number() })),
      }),
    ),
    title: lenient(z.string()),
    url: lenient(z.string()),
  })
  // An attachment we can't read still shows up in the text as "[unreadable]".
  .catch({ type: 'unreadable', payload: undefined, title: undefined, url: undefined });

const messageSchema = z.object({
  mid: z.string().min(1),
  text: lenient(z.string()),
  is_echo: lenient(z.boolean()),
  attachments: lenient(z.array(attachmentSchema)),
  quick_reply: lenient(z.object({ payload: z.string() })),
  reply_to: lenient(z.object({ mid: lenient(z.string()) })),
});

const postbackSchema = z.object({ mid: lenient(z.string()), title: lenient(z.string()), payload: lenient(z.string()) });

export const messagingEventSchema = z
  .object({
    sender: z.object({ id: z.string().min(1) }),
    timestamp: z.number().optional(),
    message: messageSchema.optional(),
    postback: postbackSchema.optional(),
    delivery: z.object({ mids: lenient(z.array(z.string())), watermark: lenient(z.number()) }).optional(),
    read: z.object({ watermark: lenient(z.number()) }).optional(),
    /** The message_edits webhook field: the customer changed the text of a message they sent. */
    message_edit: z.object({ mid: z.string().min(1), text: lenient(z.string()), num_edit: lenient(z.number()) }).optional(),
  })
  // Delivery and read events come without a timestamp; a message needs one (its time, and a postback's id).
  .refine((event) => (!event.message && !event.postback) || event.timestamp !== undefined, { message: 'a message without a timestamp', path: ['timestamp'] });

export type MessagingEvent = z.output<typeof messagingEventSchema>;
