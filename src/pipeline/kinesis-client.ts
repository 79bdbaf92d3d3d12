/**
 * The Kinesis client the pipeline talks through: how it is built, how a request names its stream,
 * and what the client's errors mean (their code, and whether any retry can fix them). The stages
 * share these through this module, so that none of them imports another.
 *
 * Two choices here are deliberate. The SDK's own retries are off: our retrier owns retries, with
 * per-record backoff and TTLs that the SDK cannot see. And HTTP/1.1 is the default although this
 * SDK version defaults to HTTP/2, because local Kinesis servers (kinesalite) speak only HTTP/1.1
 * and a keep-alive agent with `maxSockets = maxConnections` bounds our connections exactly.
 */
import http from 'node:http';
import https from 'node:https';
import { KinesisClient, type KinesisClientConfig } from '@aws-sdk/client-kinesis';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/** Options of {@link createKinesisClient}. */
export interface KinesisClientOptions {
  /** AWS region; when absent the SDK reads it from the environment. */
  region?: string | undefined;
  /** Endpoint URL; `http://` gives plain HTTP, anything else TLS with verified certificates. */
  endpoint?: string | undefined;
  /** Static credentials or a provider; when absent the SDK's default provider chain is used. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider | undefined;
  /** Most sockets open at once (HTTP/1.1); the Sender keeps at most this many requests in flight. */
  maxConnections: number;
  /** Milliseconds after which the HTTP handler abandons a request. */
  requestTimeout: number;
  /** Use the SDK's HTTP/2 handler instead of HTTP/1.1 keep-alive connections. */
  http2: boolean;
}

/**
 * Creates the KinesisClient the pipeline sends through: an HTTP/1.1 `NodeHttpHandler` with
 * keep-alive agents (`maxSockets = maxConnections`) by default, `NodeHttp2Handler` when `http2`;
 * SDK retries off (`maxAttempts: 1`); `requestTimeout` applied to the handler, which throws
 * rather than warns when it passes. TLS certificates are always verified; plain HTTP is used only
 * when the endpoint says `http://`.
 */
export function createKinesisClient(options: KinesisClientOptions): KinesisClient {
  const { maxConnections, requestTimeout } = options;
  const requestHandler = options.http2
    ? new NodeHttp2Handler({ requestTimeout })
    : new NodeHttpHandler({
        httpAgent: new http.Agent({ keepAlive: true, maxSockets: maxConnections }),
        httpsAgent: new https.Agent({ keepAlive: true, maxSockets: maxConnections }),
        requestTimeout,
        throwOnRequestTimeout: true,
      });
  const config: KinesisClientConfig = { maxAttempts: 1, requestHandler };
  if (options.region !== undefined) config.region = options.region;
  if (options.endpoint !== undefined) config.endpoint = options.endpoint;
  if (options.credentials !== undefined) config.credentials = options.credentials;
  return new KinesisClient(config);
}

/** An error as the pipeline records it: a stable code and a message safe to log. */
export interface DescribedError {
  /** The SDK error's name (the Kinesis error code), or the Node network code (ECONNRESET, ...). */
  errorCode: string;
  /** The error's message, without anything that looks like a credential, at most 1,024 characters. */
  errorMessage: string;
}

const MAX_ERROR_MESSAGE_LENGTH = 1024;

/**
 * Reads the code and message of anything the SDK throws. Kinesis errors carry their code as
 * `name` (ProvisionedThroughputExceededException, InternalFailure, ...); Node network errors carry
 * theirs as `code` (ECONNREFUSED, ECONNRESET, ...), also when wrapped in an AggregateError by
 * Node's connection attempts to several addresses.
 */
export function describeKinesisError(error: unknown): DescribedError {
  if (!(error instanceof Error)) {
    return { errorCode: 'UnknownError', errorMessage: redactCredentials(String(error)) };
  }
  return { errorCode: errorCodeOf(error), errorMessage: redactCredentials(error.message || error.name) };
}

function errorCodeOf(error: Error): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code !== '') return code;
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      if (inner instanceof Error) {
        const innerCode = errorCodeOf(inner);
        if (innerCode !== 'UnknownError') return innerCode;
      }
    }
  }
  return error.name !== '' && error.name !== 'Error' ? error.name : 'UnknownError';
}

/**
 * SigV4 parts, signed headers quoted back, access key ids and URL user info, each with what replaces
 * it. A Kinesis message never holds these, but a proxy or a misconfigured endpoint can echo a
 * request back (as `name: value` lines or as JSON), and error messages end up in logs.
 */
const CREDENTIAL_PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  [/(Credential|Signature|SignedHeaders|X-Amz-Security-Token|X-Amz-Credential|X-Amz-Signature)=[^\s,&"']+/gi, '$1=[redacted]'],
  // The whole value, up to the end of its line or quote: the session token, or Credential=... , Signature=...
  [/\b(Authorization|X-Amz-Security-Token)(["']?\s*:\s*["']?)[^"'\r\n]+/gi, '$1$2[redacted]'],
  [/\b(AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}\b/g, '[redacted]'],
  [/\/\/[^/\s:@]+:[^/\s@]+@/g, '//[redacted]@'],
];

function redactCredentials(message: string): string {
  let safe = message;
  for (const [pattern, replacement] of CREDENTIAL_PATTERNS) safe = safe.replace(pattern, replacement);
  return safe.length > MAX_ERROR_MESSAGE_LENGTH ? `${safe.slice(0, MAX_ERROR_MESSAGE_LENGTH - 1)}…` : safe;
}

/** The stream a pipeline writes to: by name, by ARN, or both. */
export interface StreamRef {
  streamName?: string | undefined;
  streamARN?: string | undefined;
}

/** StreamName and/or StreamARN for a Kinesis request. */
export function streamParameters(stream: StreamRef): { StreamName?: string; StreamARN?: string } {
  const parameters: { StreamName?: string; StreamARN?: string } = {};
  if (stream.streamName !== undefined) parameters.StreamName = stream.streamName;
  if (stream.streamARN !== undefined) parameters.StreamARN = stream.streamARN;
  return parameters;
}

/** Error code of whatever the producer's close() stopped: a request, a shard-map load, a record still buffered. */
export const PRODUCER_CLOSED_ERROR_CODE = 'ProducerClosed';

/**
 * Codes that the same request will meet again however long it waits: the caller's request or
 * identity is wrong, the stream or its KMS key is unusable, or the producer is closing. Retrying
 * them only burns the record's TTL and hides the cause.
 */
const UNRETRYABLE_ERROR_CODES: ReadonlySet<string> = new Set([
  'AccessDeniedException',
  'ResourceNotFoundException',
  'ValidationException',
  'InvalidArgumentException',
  'SerializationException',
  'MissingParameter',
  'InvalidParameterCombination',
  'InvalidParameterValue',
  'InvalidQueryParameter',
  'MalformedQueryString',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignature',
  'InvalidClientTokenId',
  'MissingAuthenticationToken',
  'NotAuthorized',
  // The SDK found no credentials anywhere; its providers already retried what can be retried.
  'CredentialsProviderError',
  'OptInRequired',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
  'KMSOptInRequired',
  PRODUCER_CLOSED_ERROR_CODE,
  // The endpoint's TLS certificate failed verification: no retry makes it trusted.
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * True for error codes no retry can fix (access denied, a missing stream, a malformed request, bad
 * credentials, an unusable KMS key, a closed producer, an endpoint whose TLS certificate fails
 * verification). Throttling, internal failures, timeouts
 * and network errors are retryable; so is an expired token, which a refreshing credentials
 * provider replaces.
 */
export function isUnretryableErrorCode(errorCode: string): boolean {
  return UNRETRYABLE_ERROR_CODES.has(errorCode);
}
