import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { FAKE_APP_ID, FAKE_TEAM_DOMAIN, FAKE_TEAM_ID, type FakeSlack } from './fake-slack.ts';

export const FAKE_APP_TOKEN = 'xapp-1-A0SCOPE01-0000000000000-fakescopeapptoken';

/** What the app acknowledged for one envelope (its `payload` is the ack body, e.g. an ephemeral reply). */
export type SocketAck = { envelope_id: string; payload?: Record<string, unknown> };

/**
 * A protocol-level stand-in for Slack's Socket Mode: `apps.connections.open` on the fake Slack hands out a
 * ws:// URL of this server, which greets each connection with `hello`, pushes envelopes (slash commands,
 * interactions) and resolves each with the app's ack, exactly as Slack's WebSocket endpoint does.
 */
export class FakeSocketMode {
  readonly #server: WebSocketServer;
  readonly #sockets = new Set<WebSocket>();
  readonly #pending = new Map<string, (ack: SocketAck) => void>();
  /** Every ack received, in order (tests assert on them). */
  readonly acks: SocketAck[] = [];
  connections = 0;

  private constructor(server: WebSocketServer) {
    this.#server = server;
    server.on('connection', (ws) => {
      this.connections += 1;
      this.#sockets.add(ws);
      ws.on('close', () => this.#sockets.delete(ws));
      ws.on('message', (data) => {
        let msg: SocketAck;
        try {
          msg = JSON.parse(String(data)) as SocketAck;
        } catch {
          return;
        }
        if (typeof msg.envelope_id !== 'string') return;
        this.acks.push(msg);
        this.#pending.get(msg.envelope_id)?.(msg);
        this.#pending.delete(msg.envelope_id);
      });
      ws.send(
        JSON.stringify({
          type: 'hello',
          num_connections: this.#sockets.size,
          debug_info: { host: 'fake-socket-mode', approximate_connection_time: 18060 },
          connection_info: { app_id: FAKE_APP_ID },
        }),
      );
    });
  }

  static async start(slack: FakeSlack, appToken = FAKE_APP_TOKEN): Promise<FakeSocketMode> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    const fake = new FakeSocketMode(server);
    const port = (server.address() as AddressInfo).port;
    slack.enableSocketMode(
      appToken,
      () => `ws://127.0.0.1:${port}/link/?ticket=${randomUUID()}&app_id=${FAKE_APP_ID}`,
    );
    return fake;
  }

  /** Resolves once an app connected (and so received `hello`). */
  async connected(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#sockets.size === 0) {
      if (Date.now() > deadline) throw new Error('fake-socket-mode: no app connected');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Pushes one envelope and resolves with the app's ack (rejects when none arrives in time). */
  send(
    type: 'slash_commands' | 'interactive' | 'events_api',
    payload: Record<string, unknown>,
    timeoutMs = 5000,
  ): Promise<SocketAck> {
    const ws = [...this.#sockets][0];
    if (!ws) return Promise.reject(new Error('fake-socket-mode: no app connected'));
    const envelopeId = randomUUID();
    return new Promise<SocketAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(envelopeId);
        reject(new Error(`fake-socket-mode: no ack for ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(envelopeId, (ack) => {
        clearTimeout(timer);
        resolve(ack);
      });
      ws.send(
        JSON.stringify({
          envelope_id: envelopeId,
          payload,
          type,
          accepts_response_payload: type !== 'events_api',
          retry_attempt: 0,
          retry_reason: '',
        }),
      );
    });
  }

  /** A `/scope` slash command as Socket Mode delivers it. */
  slashCommand(fields: {
    text: string;
    user_id: string;
    channel_id: string;
    trigger_id?: string;
  }): Promise<SocketAck> {
    return this.send('slash_commands', {
      token: 'fakeVerificationToken0000',
      team_id: FAKE_TEAM_ID,
      team_domain: FAKE_TEAM_DOMAIN,
      channel_name: 'incident',
      user_name: fields.user_id.toLowerCase(),
      command: '/scope',
      api_app_id: FAKE_APP_ID,
      is_enterprise_install: 'false',
      response_url: 'http://127.0.0.1:9/response-url-not-set',
      trigger_id: fields.trigger_id ?? `${Date.now()}.${randomUUID()}`,
      ...fields,
    });
  }

  /** A block_actions or view_submission payload (as built by slack-requests.ts shapes). */
  interactive(payload: Record<string, unknown>): Promise<SocketAck> {
    return this.send('interactive', payload);
  }

  async close(): Promise<void> {
    for (const ws of this.#sockets) ws.terminate();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
