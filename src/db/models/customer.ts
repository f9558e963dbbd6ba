import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';
import { CHANNEL_KINDS } from '../../domain.js';

const customerSchema = new Schema(
  {
    channel: { type: String, enum: CHANNEL_KINDS, required: true },
    externalChatId: { type: String, required: true },
    name: String,
    username: String,
    phone: String,
    email: String,
    language: String,
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
