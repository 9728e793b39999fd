// The report sections built in: registered on import, in report order.
import './herd.js';
import './events.js';
