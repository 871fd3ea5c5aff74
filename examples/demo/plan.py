"""Deterministic shoppers for the demo: who lands from where, how far each gets.

Every shopper browses the demo shop (examples/shop) with the Journey tag; the rest
of the journey depends on the store that sells to them:
  shopify      checkout, payment, order and fulfilment arrive as Shopify webhooks,
               stitched to the browser through the cart token (cart_id)
  woocommerce  the tag tracks the checkout page with the Woo order id; order.created /
               order.updated webhooks follow, stitched through that order id
  headless     a C++ checkout service tracks checkout → shipping with the SDK,
               stitched through the cart id
Times are whole seconds, from midnight UTC ten days ago, so every journey is in
the past (nothing over journeyd's 1 h future limit) and fits the 7 d window.
"""
import datetime
import random
import uuid

CURRENCY = "EUR"
CATALOG = [  # the demo shop's catalog (examples/shop/public/shop.js)
    {"id": "trail-runner-2", "sku": "TR2-42-MOSS", "name": "Trail Runner 2", "category": "Shoes", "brand": "Northpeak", "price": 89.9},
    {"id": "merino-socks", "sku": "SOCK-MER-M", "name": "Merino Socks", "category": "Socks", "brand": "Northpeak", "price": 14.95},
    {"id": "rain-shell", "sku": "SHELL-L-RED", "name": "Rain Shell", "category": "Jackets", "brand": "Northpeak", "price": 149},
    {"id": "bottle-750", "sku": "BTL-750", "name": "Bottle 750 ml", "category": "Gear", "brand": "Cascade", "price": 19.5},
]
# (weight, utm source, utm medium, campaign); None: direct traffic.
CHANNELS = [
    (30, "google", "cpc", "winter-sale"),
    (20, "facebook", "paid_social", "winter-sale"),
    (15, "newsletter", "email", "black-friday"),
    (10, "instagram", "social", "creators"),
    (5, "blog.trailnotes.example", "referral", None),
    (20, None, None, None),
]
STORES = [(40, "shopify"), (30, "woocommerce"), (30, "headless")]
SHOP_HOSTS = {"shopify": "northpeak.example", "woocommerce": "woo.northpeak.example", "headless": "shop.northpeak.example"}
# Chance to go on from the previous step.
P_CART, P_CHECKOUT, P_PAY, P_PAY_OK, P_SHIP = 0.42, 0.58, 0.82, 0.94, 0.9


def pick(rng, weighted):
    total = sum(w for w, *_ in weighted)
    r = rng.uniform(0, total)
    for entry in weighted:
        r -= entry[0]
        if r <= 0:
            return entry
    return weighted[-1]


def iso_ms(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def product(p, quantity=1):
    return dict(p, quantity=quantity)


class Shopper:
    def __init__(self, n, rng, base):
        self.n = n
        self.rng = rng
        self.store = pick(rng, STORES)[1]
        self.host = SHOP_HOSTS[self.store]
        _, source, medium, campaign = pick(rng, CHANNELS)
        self.channel = None
        if source:
            self.channel = {"source": source, "medium": medium}
            if campaign:
                self.channel["campaign"] = campaign
        self.anonymous_id = self.uuid7(base)
        self.t = base + rng.randrange(0, 6 * 86400)
        self.pages = []      # browser tag: one request per page, as the tag batches per page
        self.webhooks = []   # (platform, topic, payload)
        self.sdk = None      # the C++ checkout service's part
        self.reached = ["view"]
        self.session = None
        self.last = None

    def uuid7(self, t):
        r = self.rng.getrandbits(80)
        ms = int(t * 1000) & ((1 << 48) - 1)
        return str(uuid.UUID(int=(ms << 80) | (0x7 << 76) | ((r >> 62) << 64) | (0b10 << 62) | (r & ((1 << 62) - 1))))

    def wait(self, low, high):
        self.t += self.rng.randrange(low, high + 1)

    def page(self, path, title, events, landing=False):
        """A page load: the tag's view (with channel on a landing) plus the page's own events."""
        if self.last is None or self.t - self.last > 30 * 60:
            self.session = self.uuid7(self.t)
        self.last = self.t
        url = f"https://{self.host}{path}"
        query = ""
        if landing and self.channel and self.channel["medium"] != "referral":
            query = f"?utm_source={self.channel['source']}&utm_medium={self.channel['medium']}"
            if "campaign" in self.channel:
                query += f"&utm_campaign={self.channel['campaign']}"
        referrer = ""
        if landing and self.channel and self.channel["medium"] == "referral":
            referrer = f"https://{self.channel['source']}/best-trail-shoes"
        elif self.pages:
            referrer = self.pages[-1]["events"][0]["context"]["page"]["url"]
        context = {"page": {"url": url + query, "path": path.split("?")[0], "title": title, "referrer": referrer},
                   "library": {"name": "journey-tag", "version": "0.1.0"}, "locale": "en-GB"}
        out = []
        for i, (type_, props) in enumerate(events):
            ev = {"event_id": self.uuid7(self.t), "type": type_, "timestamp": iso_ms(self.t + i),
                  "anonymous_id": self.anonymous_id, "session_id": self.session, "properties": props,
                  "context": context}
            if type_ == "view" and landing and self.channel:
                ev["channel"] = dict(self.channel, **({"referrer": referrer} if referrer else {}))
                ev["stage"] = "awareness"
            out.append(ev)
        self.pages.append({"origin": f"https://{self.host}", "events": out})


def browse(s):
    """Views, then maybe a cart. Returns the cart lines or None."""
    rng = s.rng
    s.page("/index.html", "Northpeak — all products", [("view", {"list_id": "all-products"})], landing=True)
    seen = rng.sample(CATALOG, rng.randint(1, 3))
    for p in seen:
        s.wait(15, 150)
        s.page(f"/product.html?id={p['id']}", p["name"], [("view", {"product": product(p), "currency": CURRENCY})])
    if rng.random() >= P_CART:
        return None
    if rng.random() < 0.2:
        s.wait(18 * 3600, 30 * 3600)  # comes back the next day to buy
    else:
        s.wait(10, 240)
    s.cart_id = {"shopify": f"Z2NwLWV1cm9wZS13ZXN0NDo{s.n:06d}", "woocommerce": f"wc-{s.n:06d}",
                 "headless": f"cart-{s.n:06d}"}[s.store]
    lines = [(p, rng.choice([1, 1, 1, 2])) for p in seen[: rng.randint(1, len(seen))]]
    p0, q0 = lines[0]
    s.page(f"/product.html?id={p0['id']}", p0["name"],
           [("view", {"product": product(p0), "currency": CURRENCY}),
            ("add_to_cart", {"product": product(p0, q0), "cart_id": s.cart_id, "currency": CURRENCY})])
    for p, q in lines[1:]:
        s.wait(5, 60)
        s.page(f"/product.html?id={p['id']}", p["name"],
               [("view", {"product": product(p), "currency": CURRENCY}),
                ("add_to_cart", {"product": product(p, q), "cart_id": s.cart_id, "currency": CURRENCY})])
    s.reached.append("add_to_cart")
    return lines


def total(lines):
    return round(sum(round(p["price"] * 100) * q for p, q in lines) / 100, 2)


def make_shoppers(count, seed):
    rng = random.Random(seed)
    today = datetime.datetime.now(datetime.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    base = int(today.timestamp()) - 10 * 86400
    from checkout_paths import CHECKOUT  # noqa: E402  (the three stores' checkouts)
    shoppers = []
    for n in range(1, count + 1):
        s = Shopper(n, rng, base)
        lines = browse(s)
        if lines and rng.random() < P_CHECKOUT:
            s.wait(20, 600)
            s.page("/cart.html", "Your cart", [("view", {})])
            s.wait(10, 120)
            CHECKOUT[s.store](s, lines, total(lines))
        shoppers.append(s)
    return shoppers
