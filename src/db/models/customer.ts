import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';
import { CHANNEL_KINDS } from '../../domain.js';
import { LANGUAGE_SOURCES } from '../../language/customer-language.js';

const customerSchema = new Schema(
  {
    channel: { type: String, enum: CHANNEL_KINDS, required: true },
    externalChatId: { type: String, required: true },
    name: String,
    username: String,
    phone: String,
    email: String,
    /** An ISO 639-1 code or a locale (`ru`, `en-US`): from the channel, the text, or an operator's /lang. */
    language: String,
    /** Where the language comes from: a message's text, the channel, or an operator's /lang (which then stays). */
    languageFrom: { type: String, enum: LANGUAGE_SOURCES },
    blocked: { type: Boolean, default: false },
    /** The customer blocked us on their messenger (403): sends to them fail permanently. */
    unreachable: { type: Boolean, default: false },
  },
  { timestamps: true },
);
customerSchema.index({ channel: 1, externalChatId: 1 }, { unique: true });
customerSchema.index({ name: 1 });
customerSchema.index({ email: 1 });
customerSchema.index({ phone: 1 });

export type Customer = InferSchemaType<typeof customerSchema>;
export type CustomerDoc = HydratedDocument<Customer>;
export const CustomerModel = model('Customer', customerSchema);
