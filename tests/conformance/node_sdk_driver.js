'use strict';
/**
 * Drives the official CyberSource Node SDK (npm `cybersource-rest-client`)
 * against a running `opentms serve`, in HTTP Signature mode, and writes a JSON
 * report of named checks: {sdkVersion, completed, checks: [{name, passed, detail}]}.
 *
 * Run by tests/conformance/test_node_sdk.py:
 *   node node_sdk_driver.js --sdk-dir=DIR --server-url=URL --bundle=FILE.json --report=OUT.json
 * where DIR holds node_modules/cybersource-rest-client and FILE.json is the bundle
 * `opentms merchants create` wrote.
 *
 * Scenarios: a customer with a Visa card (payment credentials v2 and v3, the
 * JWE opened with the SDK's JWEUtility), a customer with an Amex card (v3,
 * dynamic security code), and unknown customers (404 surfaces as an error).
 */

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const CALL_TIMEOUT_MS = 30000;
const HEX32 = /^[0-9A-F]{32}$/;

function parseArgs(argv) {
  const args = {};
  for (const arg of argv) {
    const match = /^--([a-z-]+)=(.*)$/s.exec(arg);
    if (!match) {
      throw new Error(`unexpected argument ${arg}`);
    }
    args[match[1]] = match[2];
  }
  for (const name of ['sdk-dir', 'server-url', 'bundle', 'report']) {
    if (!args[name]) {
      throw new Error(`--${name} is required`);
    }
  }
  return args;
}

// -- report -------------------------------------------------------------------

class StopScenario extends Error {}

class Report {
  constructor() {
    this.checks = [];
  }

  check(name, passed, detail = '') {
    const ok = Boolean(passed);
    this.checks.push({ name, passed: ok, detail: ok ? '' : String(detail) });
    return ok;
  }

  equal(name, actual, expected) {
    return this.check(
      name,
      actual === expected,
      `expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`,
    );
  }

  /** A check the rest of the scenario depends on: stop the scenario if it fails. */
  need(name, passed, detail = '') {
    if (!this.check(name, passed, detail)) {
      throw new StopScenario(name);
    }
  }
}

// -- helpers ------------------------------------------------------------------

/** Call an SDK method that takes a callback; resolve with {error, data, response}. */
function call(invoke) {
  return new Promise((resolve) => {
    const timer = setTimeout(
      () => resolve({ error: new Error(`no answer in ${CALL_TIMEOUT_MS} ms`), data: null, response: null }),
      CALL_TIMEOUT_MS,
    );
    const done = (error, data, response) => {
      clearTimeout(timer);
      resolve({ error, data, response });
    };
    try {
      invoke(done);
    } catch (exc) {
      // Configuration and authentication set-up failures are thrown synchronously.
      done(exc, null, null);
    }
  });
}

function describe(result) {
  const { error, response } = result;
  if (!error) {
    return `status ${response && response.status}: ${response && response.text}`.slice(0, 600);
  }
  const status = error.status !== undefined ? `status ${error.status}` : 'no status';
  const body = error.response && error.response.text ? `: ${error.response.text}` : '';
  const message = error.message ? `: ${error.message}` : '';
  return `${status}${message}${body}`.slice(0, 600);
}

/** The parsed response body as the server sent it (the SDK keeps JSON.stringify(data)). */
function bodyOf(response) {
  try {
    return JSON.parse(response.text);
  } catch (exc) {
    return undefined;
  }
}

function headerOf(response, name) {
  const headers = (response && response.header) || {};
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : String(headers[key]);
}

function get(object, dotted) {
  return dotted.split('.').reduce((value, key) => (value == null ? undefined : value[key]), object);
}

function luhnValid(digits) {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) {
        digit -= 9;
      }
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** A random Luhn-valid card number (never one of the simulator's magic numbers). */
function makePan(prefix, length) {
  let digits = prefix;
  while (digits.length < length - 1) {
    digits += String(crypto.randomInt(10));
  }
  for (let check = 0; check < 10; check += 1) {
    if (luhnValid(digits + check)) {
      return digits + check;
    }
  }
  throw new Error('unreachable');
}

function masked(pan) {
  return pan.slice(0, 6) + 'X'.repeat(pan.length - 10) + pan.slice(-4);
}

function randomHex32() {
  return crypto.randomBytes(16).toString('hex').toUpperCase();
}

function jweHeader(compact) {
  try {
    return JSON.parse(Buffer.from(compact.split('.')[0], 'base64url').toString('utf8'));
  } catch (exc) {
    return undefined;
  }
}

// -- scenarios ----------------------------------------------------------------

class Driver {
  constructor(report, sdk, bundle, bundleDir, serverUrl) {
    this.r = report;
    this.sdk = sdk;
    this.bundle = bundle;
    this.privateKeyPem = fs.readFileSync(
      path.join(bundleDir, bundle.paymentCredentials.privateKeyFile),
      'utf8',
    );
    const url = new URL(serverUrl);
    // node-sdk-notes.md §1: host:port plus the scheme-qualified intermediateHost.
    const config = {
      authenticationType: 'http_signature',
      merchantID: bundle.merchantId,
      merchantKeyId: bundle.httpSignature.keyId,
      merchantsecretKey: bundle.httpSignature.sharedSecret,
      runEnvironment: url.host,
      intermediateHost: `${url.protocol}//${url.host}`,
      logConfiguration: { enableLog: false },
    };
    const client = new sdk.ApiClient();
    this.customers = new sdk.CustomerApi(config, client);
    this.customerPis = new sdk.CustomerPaymentInstrumentApi(config, client);
    this.tokens = new sdk.NetworkTokensApi(config, client);
  }

  async run() {
    let completed = true;
    for (const [name, scenario] of [
      ['visa', () => this.visa()],
      ['amex', () => this.amex()],
      ['unknown', () => this.unknownCustomer()],
      ['if-match', () => this.ifMatch()],
    ]) {
      try {
        await scenario();
      } catch (exc) {
        if (!(exc instanceof StopScenario)) {
          this.r.check(`${name}: ran to the end`, false, exc && exc.stack ? exc.stack : exc);
        }
        completed = false;
      }
    }
    return completed;
  }

  /** POST a customer, add a payment instrument with an inline card, GET the customer. */
  async customerWithCard(label, pan, card, securityCode) {
    const sdk = this.sdk;
    const request = new sdk.PostCustomerRequest();
    request.buyerInformation = new sdk.Tmsv2tokenizeTokenInformationCustomerBuyerInformation();
    request.buyerInformation.merchantCustomerID = `node-${label}-${crypto.randomInt(1e9)}`;
    request.buyerInformation.email = `${label}@example.com`;
    request.clientReferenceInformation =
      new sdk.Tmsv2tokenizeTokenInformationCustomerClientReferenceInformation();
    request.clientReferenceInformation.code = `node-sdk-${label}`;
    const created = await call((cb) => this.customers.postCustomer(request, {}, cb));
    this.r.need(`${label}: postCustomer succeeds`, !created.error, describe(created));
    this.r.equal(`${label}: postCustomer status`, created.response.status, 201);
    this.r.check(
      `${label}: postCustomer answer has v-c-correlation-id`,
      headerOf(created.response, 'v-c-correlation-id'),
      JSON.stringify(created.response.header),
    );
    const customerId = created.data && created.data.id;
    this.r.need(`${label}: customer id is 32 upper-case hex`, HEX32.test(customerId), customerId);
    this.r.equal(
      `${label}: customer echoes merchantCustomerID`,
      get(created.data, 'buyerInformation.merchantCustomerID'),
      request.buyerInformation.merchantCustomerID,
    );

    const pi = new sdk.PostCustomerPaymentInstrumentRequest();
    pi.card = new sdk.DefaultPaymentInstrumentCard();
    pi.card.expirationMonth = card.expirationMonth;
    pi.card.expirationYear = card.expirationYear;
    pi.card.type = card.type;
    // The SDK's model names only instrumentIdentifier.id; the API also takes an inline card.
    pi.instrumentIdentifier = new sdk.DefaultPaymentInstrumentInstrumentIdentifier();
    pi.instrumentIdentifier.card = new sdk.TmsEmbeddedInstrumentIdentifierCard();
    pi.instrumentIdentifier.card.number = pan;
    if (securityCode !== undefined) {
      pi.instrumentIdentifier.card.securityCode = securityCode;
    }
    const added = await call((cb) =>
      this.customerPis.postCustomerPaymentInstrument(customerId, pi, {}, cb),
    );
    this.r.need(`${label}: postCustomerPaymentInstrument succeeds`, !added.error, describe(added));
    this.r.equal(`${label}: postCustomerPaymentInstrument status`, added.response.status, 201);
    const piBody = bodyOf(added.response) || {};
    const piId = added.data && added.data.id;
    this.r.need(`${label}: payment instrument id is 32 upper-case hex`, HEX32.test(piId), piId);
    this.r.check(
      `${label}: payment instrument has an instrument identifier`,
      typeof get(piBody, 'instrumentIdentifier.id') === 'string',
      JSON.stringify(piBody.instrumentIdentifier),
    );
    this.r.equal(
      `${label}: payment instrument card.expirationMonth`,
      get(added.data, 'card.expirationMonth'),
      card.expirationMonth,
    );
    this.r.equal(
      `${label}: payment instrument card.expirationYear`,
      get(added.data, 'card.expirationYear'),
      card.expirationYear,
    );
    this.r.equal(`${label}: payment instrument card.type`, get(added.data, 'card.type'), card.type);
    this.r.check(
      `${label}: payment instrument response has no clear card number`,
      !added.response.text.includes(pan),
      'the PAN appears in the response',
    );

    const fetched = await call((cb) => this.customers.getCustomer(customerId, {}, cb));
    this.r.need(`${label}: getCustomer succeeds`, !fetched.error, describe(fetched));
    this.r.equal(`${label}: getCustomer status`, fetched.response.status, 200);
    this.r.equal(`${label}: getCustomer id`, fetched.data && fetched.data.id, customerId);
    this.r.equal(
      `${label}: first payment instrument is the default`,
      get(fetched.data, 'defaultPaymentInstrument.id'),
      piId,
    );
    this.r.equal(
      `${label}: customer _embedded.defaultPaymentInstrument.id`,
      get(bodyOf(fetched.response), '_embedded.defaultPaymentInstrument.id'),
      piId,
    );
    this.r.check(
      `${label}: customer response has no clear card number`,
      !fetched.response.text.includes(pan),
      'the PAN appears in the response',
    );
    return { customerId, piId };
  }

  /** Common checks on a payment-credentials answer; the compact JWE it carries. */
  checkJweAnswer(label, result, jwe) {
    this.r.equal(`${label}: status`, result.response.status, 201);
    const contentType = headerOf(result.response, 'content-type') || '';
    this.r.check(
      `${label}: Content-Type is application/jose`,
      contentType.startsWith('application/jose'),
      contentType,
    );
    this.r.need(
      `${label}: body is a compact JWE (five base64url parts)`,
      typeof jwe === 'string' && /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*){4}$/.test(jwe),
      typeof jwe === 'string' ? jwe.slice(0, 120) : JSON.stringify(jwe),
    );
    const header = jweHeader(jwe) || {};
    this.r.equal(`${label}: JWE alg`, header.alg, 'RSA-OAEP-256');
    this.r.equal(`${label}: JWE enc`, header.enc, 'A256GCM');
    this.r.equal(`${label}: JWE kid`, header.kid, this.bundle.paymentCredentials.kid);
  }

  /** Open the JWE with the SDK's own utility and the merchant's private key. */
  async decrypt(label, jwe) {
    let plaintext;
    try {
      plaintext = await this.sdk.JWEUtility.decryptJWEResponseUsingPrivateKey(
        this.privateKeyPem,
        jwe,
      );
    } catch (exc) {
      this.r.need(`${label}: JWEUtility.decryptJWEResponseUsingPrivateKey opens it`, false, exc);
    }
    this.r.check(`${label}: JWEUtility.decryptJWEResponseUsingPrivateKey opens it`, true);
    let payload;
    try {
      payload = JSON.parse(plaintext);
    } catch (exc) {
      this.r.need(`${label}: decrypted payload is JSON`, false, `${exc}: ${plaintext}`);
    }
    this.r.need(
      `${label}: decrypted payload is a JSON object`,
      payload !== null && typeof payload === 'object' && !Array.isArray(payload),
      plaintext,
    );
    return payload;
  }

  checkTokenNumber(label, payload, pan, length, card) {
    const number = get(payload, 'tokenizedCard.number');
    const pattern = new RegExp(`^[0-9]{${length}}$`);
    this.r.check(
      `${label}: tokenizedCard.number is ${length} clear digits`,
      typeof number === 'string' && pattern.test(number),
      JSON.stringify(number),
    );
    this.r.check(
      `${label}: tokenizedCard.number passes Luhn`,
      typeof number === 'string' && luhnValid(number),
      number,
    );
    this.r.check(`${label}: tokenizedCard.number is not the PAN`, number !== pan, number);
    this.r.equal(`${label}: card.number is the masked PAN`, get(payload, 'card.number'), masked(pan));
    this.r.equal(
      `${label}: tokenizedCard.card.suffix is the PAN's last four`,
      get(payload, 'tokenizedCard.card.suffix'),
      pan.slice(-4),
    );
    this.r.equal(
      `${label}: card.expirationMonth is the payment instrument's`,
      get(payload, 'card.expirationMonth'),
      card.expirationMonth,
    );
    this.r.equal(
      `${label}: card.expirationYear is the payment instrument's`,
      get(payload, 'card.expirationYear'),
      card.expirationYear,
    );
    this.r.check(
      `${label}: tokenizedCard has an expiry`,
      /^[0-9]{2}$/.test(get(payload, 'tokenizedCard.expirationMonth')) &&
        /^[0-9]{4}$/.test(get(payload, 'tokenizedCard.expirationYear')),
      JSON.stringify(payload.tokenizedCard),
    );
    this.r.check(
      `${label}: decrypted payload has no clear PAN`,
      !JSON.stringify(payload).includes(pan),
      'the PAN appears in the payload',
    );
    return number;
  }

  checkCryptogram(label, payload) {
    const cryptogram = get(payload, 'tokenizedCard.cryptogram');
    this.r.check(
      `${label}: tokenizedCard.cryptogram is 28 characters of base64 (20 bytes)`,
      typeof cryptogram === 'string' &&
        /^[A-Za-z0-9+/]{27}=$/.test(cryptogram) &&
        Buffer.from(cryptogram, 'base64').length === 20,
      JSON.stringify(cryptogram),
    );
    return cryptogram;
  }

  async visa() {
    const label = 'visa';
    const pan = makePan('411111', 16);
    const card = { expirationMonth: '12', expirationYear: '2031', type: '001' };
    const { customerId, piId } = await this.customerWithCard(label, pan, card);

    // v2: the SDK returns the body as a string.
    const v2Request = new this.sdk.PostPaymentCredentialsRequest1();
    v2Request.paymentCredentialType = 'CRYPTOGRAM';
    v2Request.orderInformation = new this.sdk.Tmsv3tokenstokenIdpaymentcredentialsOrderInformation();
    v2Request.orderInformation.amountDetails =
      new this.sdk.Tmsv3tokenstokenIdpaymentcredentialsOrderInformationAmountDetails();
    v2Request.orderInformation.amountDetails.totalAmount = '10.00';
    v2Request.orderInformation.amountDetails.currency = 'USD';
    const v2 = await call((cb) =>
      this.tokens.postTokenPaymentCredentials(customerId, v2Request, {}, cb),
    );
    const v2Label = `${label} v2`;
    this.r.need(`${v2Label}: postTokenPaymentCredentials succeeds`, !v2.error, describe(v2));
    this.r.equal(`${v2Label}: SDK returns a string`, typeof v2.data, 'string');
    this.checkJweAnswer(v2Label, v2, v2.data);
    const v2Payload = await this.decrypt(v2Label, v2.data);
    const token = this.checkTokenNumber(v2Label, v2Payload, pan, 16, card);
    const v2Cryptogram = this.checkCryptogram(v2Label, v2Payload);
    this.r.equal(`${v2Label}: tokenizedCard.type`, get(v2Payload, 'tokenizedCard.type'), 'visa');
    this.r.check(
      `${v2Label}: tokenizedCard.eci is two digits`,
      /^[0-9]{2}$/.test(get(v2Payload, 'tokenizedCard.eci')),
      JSON.stringify(get(v2Payload, 'tokenizedCard.eci')),
    );
    this.r.equal(
      `${v2Label}: _links.self.href`,
      get(v2Payload, '_links.self.href'),
      `/tms/v2/tokens/${customerId}/payment-credentials`,
    );

    // v3, default credential type: a Visa token comes with a cryptogram.
    const v3 = await call((cb) =>
      this.tokens.postTokenPaymentCredentialsV3(
        customerId,
        new this.sdk.PostPaymentCredentialsRequest(),
        {},
        cb,
      ),
    );
    const v3Label = `${label} v3`;
    const v3Payload = await this.checkV3(v3Label, v3, customerId, piId);
    const v3Token = this.checkTokenNumber(v3Label, v3Payload, pan, 16, card);
    this.r.equal(`${v3Label}: same network token as v2`, v3Token, token);
    const v3Cryptogram = this.checkCryptogram(v3Label, v3Payload);
    this.r.check(
      `${v3Label}: a new cryptogram for each call`,
      v3Cryptogram !== v2Cryptogram,
      v3Cryptogram,
    );
  }

  /** v3: the SDK deserialises the JWE into an (empty) InlineResponse2011; the
   * JWE itself is the response text. */
  async checkV3(label, result, customerId, piId) {
    this.r.need(`${label}: postTokenPaymentCredentialsV3 succeeds`, !result.error, describe(result));
    this.r.check(
      `${label}: SDK returns an InlineResponse2011`,
      result.data instanceof this.sdk.InlineResponse2011,
      result.data && result.data.constructor && result.data.constructor.name,
    );
    const jwe = bodyOf(result.response);
    this.checkJweAnswer(label, result, jwe);
    const payload = await this.decrypt(label, jwe);
    this.r.equal(
      `${label}: _links.self.href`,
      get(payload, '_links.self.href'),
      `/tms/v3/tokens/${customerId}/payment-credentials`,
    );
    this.r.equal(
      `${label}: _links.customer.href`,
      get(payload, '_links.customer.href'),
      `/tms/v2/customers/${customerId}`,
    );
    this.r.equal(
      `${label}: _links.paymentInstruments.href`,
      get(payload, '_links.paymentInstruments.href'),
      `/tms/v2/customers/${customerId}/payment-instruments/${piId}`,
    );
    this.r.check(
      `${label}: _links.tokenizedCard.href`,
      /^\/tms\/v2\/tokenized-cards\/[0-9A-Za-z]+$/.test(get(payload, '_links.tokenizedCard.href')),
      JSON.stringify(get(payload, '_links.tokenizedCard')),
    );
    return payload;
  }

  async amex() {
    const label = 'amex';
    const pan = makePan('378282', 15);
    const card = { expirationMonth: '07', expirationYear: '2032', type: '003' };
    const { customerId, piId } = await this.customerWithCard(label, pan, card, '1234');
    const request = new this.sdk.PostPaymentCredentialsRequest();
    const result = await call((cb) =>
      this.tokens.postTokenPaymentCredentialsV3(customerId, request, {}, cb),
    );
    const v3Label = `${label} v3`;
    const payload = await this.checkV3(v3Label, result, customerId, piId);
    this.checkTokenNumber(v3Label, payload, pan, 15, card);
    this.r.equal(
      `${v3Label}: tokenizedCard.type`,
      get(payload, 'tokenizedCard.type'),
      'americanexpress',
    );
    const code = get(payload, 'tokenizedCard.securityCode');
    this.r.check(
      `${v3Label}: tokenizedCard.securityCode is 4 digits`,
      typeof code === 'string' && /^[0-9]{4}$/.test(code),
      JSON.stringify(code),
    );
    this.r.check(
      `${v3Label}: no cryptogram for Amex`,
      get(payload, 'tokenizedCard.cryptogram') === undefined,
      JSON.stringify(get(payload, 'tokenizedCard.cryptogram')),
    );
  }

  /**
   * PATCH a customer with the ETag a GET gave (the SDK sends it as `if-match`, lower case),
   * then with that ETag stale: 412 `conflict` giving the current ETag, which then works.
   */
  async ifMatch() {
    const label = 'if-match';
    const sdk = this.sdk;
    const request = new sdk.PostCustomerRequest();
    request.buyerInformation = new sdk.Tmsv2tokenizeTokenInformationCustomerBuyerInformation();
    request.buyerInformation.merchantCustomerID = `node-${label}-${crypto.randomInt(1e9)}`;
    const created = await call((cb) => this.customers.postCustomer(request, {}, cb));
    this.r.need(`${label}: postCustomer succeeds`, !created.error, describe(created));
    const customerId = created.data.id;
    const fetched = await call((cb) => this.customers.getCustomer(customerId, {}, cb));
    this.r.need(`${label}: getCustomer succeeds`, !fetched.error, describe(fetched));
    const etag = headerOf(fetched.response, 'etag');
    this.r.equal(`${label}: getCustomer ETag`, etag, '"1"');

    const patch = (ifMatch) => {
      const body = new sdk.PatchCustomerRequest();
      body.buyerInformation = new sdk.Tmsv2tokenizeTokenInformationCustomerBuyerInformation();
      body.buyerInformation.email = `${label}-${crypto.randomInt(1e9)}@example.com`;
      return call((cb) => this.customers.patchCustomer(customerId, body, { ifMatch }, cb));
    };
    const patched = await patch(etag);
    this.r.need(`${label}: patchCustomer(ifMatch: ETag) succeeds`, !patched.error, describe(patched));
    const current = headerOf(patched.response, 'etag');
    this.r.equal(`${label}: patchCustomer answers the new ETag`, current, '"2"');

    const stale = await patch(etag);
    this.r.need(`${label}: patchCustomer(ifMatch: stale ETag) fails`, stale.error, describe(stale));
    this.r.equal(`${label}: stale ETag: error status`, stale.error.status, 412);
    const response = stale.error.response;
    this.r.equal(
      `${label}: stale ETag: errors[0].type`,
      get(response && bodyOf(response), 'errors.0.type'),
      'conflict',
    );
    this.r.equal(`${label}: the 412 gives the current ETag`, headerOf(response, 'etag'), current);
    const retried = await patch(headerOf(response, 'etag'));
    this.r.check(
      `${label}: patchCustomer(ifMatch: the 412's ETag) succeeds`,
      !retried.error,
      describe(retried),
    );
  }

  checkNotFound(label, result) {
    this.r.need(`${label}: fails`, result.error, describe(result));
    this.r.equal(`${label}: error status`, result.error.status, 404);
    let body = result.error.response ? bodyOf(result.error.response) : undefined;
    if (typeof body === 'string') {
      // Operations whose return type is String (v2 payment credentials) ask axios for
      // responseType 'string', so the error body stays text and the SDK JSON-encodes it again.
      body = bodyOf({ text: body });
    }
    this.r.equal(`${label}: errors[0].type`, get(body, 'errors.0.type'), 'notFound');
  }

  async unknownCustomer() {
    const unknown = randomHex32();
    this.checkNotFound(
      'unknown customer getCustomer',
      await call((cb) => this.customers.getCustomer(unknown, {}, cb)),
    );
    this.checkNotFound(
      'unknown customer v2 payment credentials',
      await call((cb) =>
        this.tokens.postTokenPaymentCredentials(
          unknown,
          new this.sdk.PostPaymentCredentialsRequest1(),
          {},
          cb,
        ),
      ),
    );
    this.checkNotFound(
      'unknown customer v3 payment credentials',
      await call((cb) =>
        this.tokens.postTokenPaymentCredentialsV3(
          unknown,
          new this.sdk.PostPaymentCredentialsRequest(),
          {},
          cb,
        ),
      ),
    );
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const sdkPath = path.join(args['sdk-dir'], 'node_modules', 'cybersource-rest-client');
  const sdk = require(sdkPath);
  const sdkVersion = JSON.parse(fs.readFileSync(path.join(sdkPath, 'package.json'), 'utf8')).version;
  const bundle = JSON.parse(fs.readFileSync(args.bundle, 'utf8'));
  const report = new Report();
  const driver = new Driver(report, sdk, bundle, path.dirname(args.bundle), args['server-url']);
  const completed = await driver.run();
  fs.writeFileSync(
    args.report,
    JSON.stringify({ sdkVersion, completed, checks: report.checks }, null, 2),
  );
}

main().then(
  // The SDK's keep-alive agent would hold the process open for seconds.
  () => process.exit(0),
  (exc) => {
    process.stderr.write(`${exc && exc.stack ? exc.stack : exc}\n`);
    process.exit(1);
  },
);
