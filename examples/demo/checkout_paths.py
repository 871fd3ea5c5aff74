"""The three stores' checkouts after the cart (see plan.py): what each sends, and when."""
import copy
import datetime
import json
import os

from plan import CURRENCY, P_PAY, P_PAY_OK, P_SHIP, product

PAYLOADS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "payloads")
_templates = {}


def template(name):
    if name not in _templates:
        with open(os.path.join(PAYLOADS, name + ".json"), encoding="utf-8") as f:
            _templates[name] = json.load(f)
    return copy.deepcopy(_templates[name])


def shopify_time(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def woo_time(t):  # WooCommerce's *_gmt fields: UTC without an offset
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def items(lines):
    return [product(p, q) for p, q in lines]


def shopify(s, lines, value):
    rng = s.rng
    token = f"{s.n:032x}"
    email = f"shopper{s.n}@example.com"
    customer = {"id": 7064055000000 + s.n, "email": email} if rng.random() < 0.7 else None

    def with_buyer(p):
        p["email"] = email
        p["currency"] = CURRENCY
        p["total_price"] = f"{value:.2f}"
        if customer:
            p["customer"].update(customer)
        else:
            p.pop("customer", None)
        return p

    checkout = with_buyer(template("shopify_checkouts_create"))
    checkout.update(id=3598765000000 + s.n, token=token, cart_token=s.cart_id,
                    created_at=shopify_time(s.t), updated_at=shopify_time(s.t))
    s.webhooks.append(("shopify", "checkouts/create", checkout))
    s.reached.append("checkout")
    if rng.random() >= P_PAY:
        return
    s.wait(60, 420)
    order_id = 5869284000000 + s.n
    order = {"id": order_id, "token": f"{order_id:032x}", "checkout_token": token, "cart_token": s.cart_id,
             "checkout_id": checkout["id"], "created_at": shopify_time(s.t), "processed_at": shopify_time(s.t),
             "updated_at": shopify_time(s.t)}
    paid = with_buyer(template("shopify_orders_paid"))
    paid.update(order)
    created = with_buyer(template("shopify_orders_create"))
    created.update(order)
    s.webhooks.append(("shopify", "orders/create", created))
    s.webhooks.append(("shopify", "orders/paid", paid))
    s.reached += ["payment", "purchase"]
    if rng.random() >= P_SHIP:
        return
    s.wait(86400, 3 * 86400)
    fulfillment = template("shopify_fulfillments_create")
    tracking = f"JD0146{s.n:014d}"
    fulfillment.update(id=4451234000000 + s.n, order_id=order_id, created_at=shopify_time(s.t),
                       updated_at=shopify_time(s.t), tracking_number=tracking, tracking_numbers=[tracking])
    s.webhooks.append(("shopify", "fulfillments/create", fulfillment))
    s.reached.append("shipping")


def woocommerce(s, lines, value):
    rng = s.rng
    order_id = 4000 + s.n
    s.page("/checkout.html", "Checkout",
           [("view", {}),
            ("checkout", {"checkout_id": str(order_id), "cart_id": s.cart_id, "value": value,
                          "currency": CURRENCY, "items": items(lines), "step": 1})])
    s.reached.append("checkout")
    customer_id = 100 + s.n if rng.random() < 0.5 else 0
    created_at = s.t + 3

    def order(name, status, modified):
        p = template(name)
        p.update(id=order_id, number=str(order_id), status=status, customer_id=customer_id, currency=CURRENCY,
                 total=f"{value:.2f}", date_created_gmt=woo_time(created_at), date_modified_gmt=woo_time(modified))
        p["billing"]["email"] = f"shopper{s.n}@example.com"
        return p

    s.webhooks.append(("woocommerce", "order.created", order("woocommerce_order_pending", "pending", created_at)))
    if rng.random() >= P_PAY:
        return
    s.wait(60, 300)
    s.webhooks.append(("woocommerce", "order.updated", order("woocommerce_order_processing", "processing", s.t)))
    s.reached += ["payment", "purchase"]
    if rng.random() >= P_SHIP:
        return
    s.wait(86400, 3 * 86400)
    s.webhooks.append(("woocommerce", "order.updated", order("woocommerce_order_completed", "completed", s.t)))
    s.reached.append("shipping")


def headless(s, lines, value):
    """The tag views the checkout page; the C++ checkout service (SDK) tracks the rest."""
    rng = s.rng
    s.page("/checkout.html", "Checkout", [("view", {})])
    s.wait(1, 5)
    plan = {"cart_id": s.cart_id, "user_id": f"customer-{s.n:06d}", "checkout_id": f"chk-{s.n:06d}",
            "order_id": f"ord-{s.n:06d}", "value": value, "currency": CURRENCY, "items": items(lines),
            "checkout_at": s.t}
    s.sdk = plan
    s.reached.append("checkout")
    if rng.random() >= P_PAY:
        return
    s.wait(30, 240)
    plan["payment_at"] = s.t
    plan["payment_status"] = "captured" if rng.random() < P_PAY_OK else "failed"
    s.reached.append("payment")
    if plan["payment_status"] == "failed":
        return
    plan["purchase_at"] = s.t + 1
    s.reached.append("purchase")
    if rng.random() >= P_SHIP:
        return
    s.wait(86400, 3 * 86400)
    plan["shipping_at"] = s.t
    s.reached.append("shipping")


CHECKOUT = {"shopify": shopify, "woocommerce": woocommerce, "headless": headless}
