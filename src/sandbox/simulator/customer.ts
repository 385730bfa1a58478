import { z } from 'zod';
import { type RouteDef, ok, parseBody } from './route';

/**
 * The customer (API-NOTES §5): GET /customer shows webhook_secret; PUT /customer replaces the
 * seven editable fields (an omitted one becomes ''). Webhooks always go out as POST, whatever
 * webhook_method says.
 */

const str = z.string().nullish();
const UpdateBody = z.object({
  name: str,
  detail: str,
  email: str,
  phone_number: str,
  address: str,
  webhook_method: str,
  webhook_uri: str,
});

type Editable = { [K in keyof z.infer<typeof UpdateBody>]-?: string };

export class SimCustomer {
  private fields: Editable;

  constructor(
    readonly id: string,
    readonly webhookSecret: string,
    webhookUri: string,
    private readonly tmCreate: string,
    private tmUpdate: string,
  ) {
    this.fields = {
      name: 'VoIPBIN simulator',
      detail: '',
      email: 'simulator@example.com',
      phone_number: '',
      address: '',
      webhook_method: 'POST',
      webhook_uri: webhookUri,
    };
  }

  get webhookUri(): string {
    return this.fields.webhook_uri;
  }

  set webhookUri(uri: string) {
    this.fields.webhook_uri = uri;
  }

  /** SelfWebhookMessage: the customer's own view, with webhook_secret; empty strings omitted. */
  json(): Record<string, unknown> {
    const editable = Object.fromEntries(Object.entries(this.fields).filter(([, v]) => v !== ''));
    return {
      id: this.id,
      ...editable,
      webhook_secret: this.webhookSecret,
      billing_account_id: this.id,
      metadata: {},
      email_verified: true,
      status: 'active',
      identity_verification_status: 'verified',
      tm_deletion_scheduled: null,
      tm_create: this.tmCreate,
      tm_update: this.tmUpdate,
      tm_delete: null,
    };
  }

  routes(now: () => string): RouteDef[] {
    return [
      { method: 'get', path: '/customer', handler: () => ok(this.json()) },
      {
        method: 'put',
        path: '/customer',
        handler: (ctx) => {
          const body = parseBody(ctx, UpdateBody);
          this.fields = {
            name: body.name ?? '',
            detail: body.detail ?? '',
            email: body.email ?? '',
            phone_number: body.phone_number ?? '',
            address: body.address ?? '',
            webhook_method: body.webhook_method ?? '',
            webhook_uri: body.webhook_uri ?? '',
          };
          this.tmUpdate = now();
          return ok(this.json());
        },
      },
    ];
  }
}
