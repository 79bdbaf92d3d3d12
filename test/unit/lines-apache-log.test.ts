import { describe, expect, it } from 'vitest';
import { apacheLogToJson } from '../../src/cli/lines/apache-log.js';

describe('apacheLogToJson', () => {
  it("turns a combined log line into the Agent's fields", () => {
    const line =
      '203.0.113.7 - - [05/Dec/2026:11:59:40 +0000] "GET /api/v1/orders?page=2 HTTP/1.1" 200 5124 "https://shop.example.com/cart" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"';
    expect(apacheLogToJson(line)).toEqual({
      host: '203.0.113.7',
      ident: null,
      authuser: null,
      datetime: '05/Dec/2026:11:59:40 +0000',
      request: 'GET /api/v1/orders?page=2 HTTP/1.1',
      response: '200',
      bytes: '5124',
      referer: 'https://shop.example.com/cart',
      agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
    });
  });

  it("reads the Apache documentation's common and combined examples", () => {
    expect(apacheLogToJson('127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326')).toEqual({
      host: '127.0.0.1',
      ident: null,
      authuser: 'frank',
      datetime: '10/Oct/2000:13:55:36 -0700',
      request: 'GET /apache_pb.gif HTTP/1.0',
      response: '200',
      bytes: '2326',
    });
    expect(
      apacheLogToJson(
        '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"',
      ),
    ).toMatchObject({ referer: 'http://www.example.com/start.html', agent: 'Mozilla/4.08 [en] (Win98; I ;Nav)' });
  });

  it('keeps an escaped quote inside the request, a - size as null, and a referer of - as null', () => {
    expect(apacheLogToJson('10.0.0.5 - - [05/Dec/2026:12:00:01 +0000] "GET /search?q=\\"x\\" HTTP/1.1" 304 - "-" "curl/8.5.0"')).toEqual({
      host: '10.0.0.5',
      ident: null,
      authuser: null,
      datetime: '05/Dec/2026:12:00:01 +0000',
      request: 'GET /search?q=\\"x\\" HTTP/1.1',
      response: '304',
      bytes: null,
      referer: null,
      agent: 'curl/8.5.0',
    });
  });

  it('says a line in no Apache format is not one', () => {
    expect(apacheLogToJson('[Sat Dec 05 12:00:00.123456 2026] [core:error] [pid 42] AH00037: Symbolic link not allowed')).toBeUndefined();
    expect(apacheLogToJson('')).toBeUndefined();
  });
});
