import { natsEndpointOptions, natsUrlForLog } from './connect';

describe('NATS_URL and NATS_TLS_* as connection options', () => {
  it('takes the credentials out of the URL and gives the user its own inbox', () => {
    expect(natsEndpointOptions('nats://pds:s3cr%40t@127.0.0.1:4223', {})).toEqual({
      servers: ['nats://127.0.0.1:4223'],
      user: 'pds',
      pass: 's3cr@t',
      inboxPrefix: '_INBOX.pds',
    });
  });

  it('leaves a URL without credentials as it is, and accepts a list', () => {
    expect(natsEndpointOptions('nats://a:4222, nats://b:4222', {})).toEqual({
      servers: ['nats://a:4222', 'nats://b:4222'],
    });
    expect(natsEndpointOptions('nats://u:p@a:4222,nats://u:p@b:4222', {})).toMatchObject({
      servers: ['nats://a:4222', 'nats://b:4222'],
      user: 'u',
    });
    expect(() => natsEndpointOptions('nats://u:p@a:4222,nats://v:q@b:4222', {})).toThrow(/same credentials/);
  });

  it('uses TLS with the CA (and a client certificate) the environment names', () => {
    expect(natsEndpointOptions('nats://h:4222', { NATS_TLS_CA: '/ca.pem' }).tls).toEqual({ caFile: '/ca.pem' });
    expect(
      natsEndpointOptions('nats://h:4222', { NATS_TLS_CA: '/ca.pem', NATS_TLS_CERT: '/c.pem', NATS_TLS_KEY: '/k.pem' })
        .tls,
    ).toEqual({ caFile: '/ca.pem', certFile: '/c.pem', keyFile: '/k.pem' });
  });

  it('hides the credentials in a log line', () => {
    expect(natsUrlForLog('nats://pds:secret@h:4222,nats://pds:secret@i:4222')).toBe(
      'nats://***@h:4222,nats://***@i:4222',
    );
    expect(natsUrlForLog('nats://h:4222')).toBe('nats://h:4222');
  });
});
