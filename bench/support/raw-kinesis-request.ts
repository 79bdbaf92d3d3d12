/**
 * One Kinesis API call over plain HTTP with a fixed, unchecked signature: for the local endpoints
 * only (LocalKinesis, the fast bench endpoint), which parse the Authorization header but do not
 * verify it. Bench loads use it to cost the client next to nothing; tests use it to send bodies
 * the SDK would never write.
 */
import http from 'node:http';

/** What the endpoint answered. */
export interface RawKinesisAnswer {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

const UNCHECKED_AUTHORIZATION = 'AWS4-HMAC-SHA256 Credential=x/20200101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0';

/**
 * POSTs `body` as `operation` (e.g. 'PutRecords') in `contentType` ('application/x-amz-json-1.1'
 * or 'application/x-amz-cbor-1.1') to `endpoint`, through `agent` (false: a connection of its own).
 */
export function postRawKinesis(
  endpoint: URL,
  operation: string,
  contentType: string,
  body: Buffer,
  agent: http.Agent | false,
): Promise<RawKinesisAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: endpoint.hostname,
        port: endpoint.port,
        method: 'POST',
        path: '/',
        agent,
        headers: {
          'content-type': contentType,
          'content-length': body.length,
          'x-amz-target': `Kinesis_20131202.${operation}`,
          'x-amz-date': '20200101T000000Z',
          authorization: UNCHECKED_AUTHORIZATION,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, contentType: response.headers['content-type'], body: Buffer.concat(chunks) }),
        );
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}
