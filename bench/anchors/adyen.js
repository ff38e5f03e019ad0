// What a merchant page loads for an Adyen card-only integration (adyen-web v6 API).
// Assigned to globalThis so the bundler keeps them whole.
import { AdyenCheckout, Card } from '@adyen/adyen-web';

globalThis.adyenAnchor = { AdyenCheckout, Card };
