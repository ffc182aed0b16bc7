import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentialValues, GCP_CREDENTIALS_PATH, storageCredentials } from './storage-credentials.js';

const serviceAccount = JSON.stringify({ type: 'service_account', private_key_id: 'kid-1', private_key: 'PEM-XYZ' });

test('aws keys become the variables the AWS SDKs read', () => {
  const c = storageCredentials({ aws: { accessKeyId: 'AKIA1', secretAccessKey: 'sk', sessionToken: 'st', region: 'eu-west-1' } });
  assert.deepEqual(c.env, {
    AWS_ACCESS_KEY_ID: 'AKIA1',
    AWS_SECRET_ACCESS_KEY: 'sk',
    AWS_SESSION_TOKEN: 'st',
    AWS_DEFAULT_REGION: 'eu-west-1',
    AWS_REGION: 'eu-west-1',
  });
  assert.deepEqual(c.files, []);
});

test('a gcp service account becomes a mounted file plus GOOGLE_APPLICATION_CREDENTIALS', () => {
  const c = storageCredentials({ gcp: { serviceAccountJson: serviceAccount } });
  assert.deepEqual(c.env, { GOOGLE_APPLICATION_CREDENTIALS: GCP_CREDENTIALS_PATH });
  assert.deepEqual(c.files, [{ containerPath: GCP_CREDENTIALS_PATH, content: serviceAccount }]);
});

test('azure takes a key or a connection string', () => {
  assert.deepEqual(storageCredentials({ azure: { accountName: 'acct', accountKey: 'k' } }).env, {
    AZURE_STORAGE_ACCOUNT: 'acct',
    AZURE_STORAGE_KEY: 'k',
  });
  assert.deepEqual(storageCredentials({ azure: { connectionString: 'cs' } }).env, { AZURE_STORAGE_CONNECTION_STRING: 'cs' });
});

test('invalid secrets name the field and the fix', () => {
  assert.throws(() => storageCredentials({ aws: { accessKeyId: 'a' } }), /storage\.aws\.secretAccessKey/);
  assert.throws(() => storageCredentials({ gcp: { serviceAccountJson: 'nope' } }), /storage\.gcp\.serviceAccountJson: must be the JSON/);
  assert.throws(() => storageCredentials({ azure: { accountName: 'a' } }), /connectionString, or accountName with accountKey/);
  assert.throws(() => storageCredentials({ s3: {} }), /storage/);
});

test('values to mask are the secret ones, not names, paths or regions', () => {
  const c = storageCredentials({
    aws: { accessKeyId: 'AKIA1', secretAccessKey: 'sk', region: 'us-east-1' },
    gcp: { serviceAccountJson: serviceAccount },
    azure: { accountName: 'acct', accountKey: 'ak' },
  });
  assert.deepEqual(credentialValues(c).sort(), ['AKIA1', 'PEM-XYZ', 'ak', 'kid-1', 'sk']);
});
