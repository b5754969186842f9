import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Refusal } from '../../nostr/notice-codes.ts';

/** A request body as read: its media type (lower case, no parameters; '' when absent) and text. */
export interface PostedBody {
  mediaType: string;
  text: string;
}

/**
 * Media types a payment may come in. Beside text/plain (any charset) and JSON, curl's default
 * form encoding is accepted because `curl -d cashuB…` is the spec's own example, and a missing
 * Content-Type is accepted because minimal clients send none.
 */
export const ACCEPTED_MEDIA_TYPES = new Set(['', 'text/plain', 'application/json', 'application/x-www-form-urlencoded']);

export function mediaTypeOf(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

export interface ContentTypeOptions {
  bodyLimit: number;
}

/** Replaces Fastify's parsers with one that reads every accepted body as text, capped in size. */
async function contentTypes(app: FastifyInstance, options: ContentTypeOptions): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: options.bodyLimit }, (request, body, done) => {
    const mediaType = mediaTypeOf(request.headers['content-type']);
    if (!ACCEPTED_MEDIA_TYPES.has(mediaType)) {
      done(new Refusal('unsupported-media-type', 'send the payment as text/plain, application/json or a form body'), undefined);
      return;
    }
    const posted: PostedBody = { mediaType, text: body as string };
    done(null, posted);
  });
}

export default fp(contentTypes, { name: 'tollkeeper-content-types', fastify: '5.x' });
