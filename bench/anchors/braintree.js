// What a merchant page loads for Braintree card fields: the client and Hosted Fields.
// Assigned to globalThis so the bundler keeps them whole.
import client from 'braintree-web/client';
import hostedFields from 'braintree-web/hosted-fields';

globalThis.braintreeAnchor = { client, hostedFields };
