// The builders' prechecks (Event::prechecked, builders.cpp "Prechecks") held to the
// checker: for any builder chain, normalize_event(event) -- which for a vouched-for
// event adds the defaults without parsing -- gives exactly what
// normalize_event_text(event.text()) gives (kind, messages; stored bytes with a
// generated event_id aside, event_id, key, consent_denied), with plain options, with
// sent_at and with a request context. Plainly valid chains must be vouched for (the
// fast path is the point), chains on each rule's boundary agree whatever the builder
// decides, and 16,000 random chains (tests/fuzz/builder_chain.hpp, shared with the fuzz
// target fuzz_builders) agree too.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <optional>
#include <random>
#include <utility>

#include "journey/builders.hpp"
#include "journey/validate.hpp"
#include "tests/fuzz/builder_chain.hpp"

namespace prechecked {
using namespace journey;
using builder_chain::Chain;
using builder_chain::OptionSet;

const Product kMug{.id = "sku-1", .name = "Mug", .price = 12.5};
const Product kCup{.id = "sku-2", .price = 4.0, .quantity = 3, .category = "kitchen"};
const Product kUnpriced{.id = "sku-3", .name = "Sample"};

std::string rep(size_t n, std::string_view s) { return builder_chain::detail::rep(n, s); }

// Every option variant; the failures name the chain.
void expect_agree(const Chain& c, const OptionSet& o) {
  for (const NormalizeOptions* opts : {&o.plain, &o.skewed, &o.with_request}) {
    const std::string d = builder_chain::disagreement(c, *opts);
    EXPECT_EQ(d, "") << c.calls << (opts == &o.plain ? " (plain options)" : opts == &o.skewed ? " (sent_at)" : " (request)")
                     << "\ntext: " << c.event.text();
  }
}

// The checked path's answer (plain options).
EventProblems checked(const Event& e, const NormalizeOptions& opts, NormalizedEvent* out) {
  if (e.has_text()) return normalize_event_text(e.text(), opts, out);
  Json copy = e.json();
  return normalize_event(copy, opts, out);
}

// ---------------------------------------------------------------------------------
// 1. Plainly valid chains: vouched for, valid, and the same stored event.

struct PlainCase {
  const char* name;
  std::function<EventBuilder()> make;
  bool id_set = false;
};

class PlainChains : public testing::TestWithParam<PlainCase> {};

TEST_P(PlainChains, AreVouchedForAndAgree) {
  const OptionSet o(now_us());
  const Chain c{GetParam().make().build(), GetParam().id_set, GetParam().name};
  ASSERT_TRUE(c.event.has_text());
  EXPECT_TRUE(c.event.prechecked()) << c.event.text();
  NormalizedEvent out;
  const EventProblems p = checked(c.event, o.plain, &out);
  EXPECT_TRUE(p.ok()) << testing::PrintToString(p.errors) << "\n" << c.event.text();
  expect_agree(c, o);
}

INSTANTIATE_TEST_SUITE_P(
    Touchpoints, PlainChains,
    testing::Values(
        PlainCase{"view_product", [] { return view(kMug, "EUR").anonymous_id("a1"); }},
        PlainCase{"view_unpriced_product_no_currency", [] { return view(kUnpriced).user_id("u1"); }},
        PlainCase{"view_url", [] { return view("https://shop.example/").anonymous_id("a1"); }},
        PlainCase{"view_landing",
                  [] { return view("https://shop.example/").anonymous_id("a1").source("google").medium("cpc").campaign("spring"); }},
        PlainCase{"view_medium_only", [] { return view("https://shop.example/").anonymous_id("a1").medium("email"); }},
        PlainCase{"view_all_channel_fields",
                  [] {
                    return view(kUnpriced).anonymous_id("a1").source("s").medium("m").campaign("c").channel("term", "t")
                        .channel("content", "x").channel("referrer", "https://ref.example/");
                  }},
        PlainCase{"view_page_title", [] { return view(kUnpriced).anonymous_id("a1").page("https://shop.example/p/1", "Mug"); }},
        PlainCase{"view_list", [] { return view(kMug, "EUR").anonymous_id("a1").list_id("search"); }},
        PlainCase{"add_to_cart",
                  [] { return add_to_cart(kMug, "EUR").anonymous_id("a1").user_id("u1").session_id("s1").cart_id("c1"); }},
        PlainCase{"remove_from_cart", [] { return remove_from_cart(kCup, "USD").user_id("u1"); }},
        PlainCase{"checkout",
                  [] { return checkout("co-1", 25, "EUR").anonymous_id("a1").step(2).coupon("SPRING").item(kMug).item(kCup); }},
        PlainCase{"checkout_by_cart",
                  [] { return EventBuilder("checkout").cart_id("c1").value(10).currency("EUR").anonymous_id("a1"); }},
        PlainCase{"payment", [] { return payment("o-1", 25, "EUR").anonymous_id("a1").method("card"); }},
        PlainCase{"payment_failed", [] { return payment("o-1", 25, "EUR", "failed").user_id("u1"); }},
        PlainCase{"payment_by_checkout",
                  [] { return EventBuilder("payment").checkout_id("co-1").value(1).currency("JPY").status("pending").anonymous_id("a"); }},
        PlainCase{"shipping",
                  [] { return shipping("o-1", "shipped").anonymous_id("a1").carrier("DHL").tracking_number("00340434"); }},
        PlainCase{"shipping_status_setter", [] { return shipping("o-1", "info_added").anonymous_id("a1").status("delivered"); }},
        PlainCase{"purchase_items",
                  [] {
                    return purchase("o-1", 37.5, "EUR").anonymous_id("a1").items({kMug, kCup}).tax(3.1).shipping_cost(4.9)
                        .discount(2).coupon("X");
                  }},
        PlainCase{"purchase_zero_value", [] { return purchase("o-1", 0, "EUR").anonymous_id("a1"); }},
        PlainCase{"refund", [] { return refund("o-1").anonymous_id("a1"); }},
        PlainCase{"refund_value", [] { return refund("o-1").anonymous_id("a1").value(10).currency("EUR"); }},
        PlainCase{"custom", [] { return custom("newsletter_signup").anonymous_id("a1"); }},
        PlainCase{"custom_consent_denied", [] { return custom("signup").user_id("u1").consent(false); }},
        PlainCase{"consent_analytics_only_marketing_denied",
                  [] { return view(kUnpriced).anonymous_id("a1").consent(true, false); }},
        PlainCase{"event_id", [] { return purchase("o-1", 10, "EUR").anonymous_id("a1").event_id("abc-1"); }, true},
        PlainCase{"event_id_64", [] { return refund("o-1").anonymous_id("a1").event_id(rep(64, "e")); }, true},
        PlainCase{"multibyte_ids",
                  [] { return add_to_cart(kUnpriced).anonymous_id("\xc3\xbc-anon").user_id("\xe6\x97\xa5\xe6\x9c\xac"); }},
        PlainCase{"free_strings_with_escapes",
                  [] {
                    return checkout("co-1", 5, "EUR").anonymous_id("a1").coupon("say \"hi\"\\\n").session_id("s\"1")
                        .page("/p?q=\"x\"", "T\xc3\xa9");
                  }},
        PlainCase{"many_fields",  // more fields than the builder keeps inline
                  [] {
                    return checkout("co-1", 30, "EUR").anonymous_id("a1").source("s").medium("m").campaign("c")
                        .channel("term", "t").channel("content", "x").channel("referrer", "r").cart_id("c1").order_id("o1")
                        .coupon("X").step(3).tax(1).shipping_cost(2).discount(3).method("card").carrier("DHL")
                        .tracking_number("1").list_id("l").status("open").product(kMug).item(kCup).page("https://x/");
                  }},
        PlainCase{"duplicate_setters_last_wins",
                  [] { return view(kUnpriced).anonymous_id("first").anonymous_id("second").source("a").source(""); }}),
    [](const testing::TestParamInfo<PlainCase>& i) { return std::string(i.param.name); });

TEST(Prechecked, WhatNormalizationReadsFromTheText) {
  const OptionSet o(now_us());
  NormalizedEvent out;
  ASSERT_TRUE(normalize_event(view("https://shop/").anonymous_id("a1").source("google").build(), o.plain, &out).ok());
  EXPECT_NE(out.json.find("\"stage\":\"awareness\""), std::string::npos) << out.json;
  EXPECT_EQ(out.key, "a1");
  ASSERT_TRUE(normalize_event(view("https://shop/").anonymous_id("a1").source("").build(), o.plain, &out).ok());
  EXPECT_NE(out.json.find("\"stage\":\"consideration\""), std::string::npos) << out.json;
  const Event denied = custom("signup").anonymous_id("a1").user_id("u1").consent(false);
  ASSERT_TRUE(denied.prechecked());
  ASSERT_TRUE(normalize_event(denied, o.plain, &out).ok());
  EXPECT_TRUE(out.consent_denied);
  EXPECT_EQ(out.key, "u1");
  const Event with_id = purchase("o-1", 10, "EUR").anonymous_id("a1").event_id("abc-1");
  ASSERT_TRUE(normalize_event(with_id, o.plain, &out).ok());
  EXPECT_EQ(out.event_id, "abc-1");
  const Event twice = view(kUnpriced).anonymous_id("first").anonymous_id("second");
  ASSERT_TRUE(twice.prechecked());
  ASSERT_TRUE(normalize_event(twice, o.plain, &out).ok());
  EXPECT_EQ(out.key, "second");
  EXPECT_EQ(out.json.find("first"), std::string::npos) << out.json;
}

// ---------------------------------------------------------------------------------
// 2. Each rule's boundary: agreement always; prechecked() and validity where the rule
// is clear (nullopt: either is fine, as long as both paths agree).

struct EdgeCase {
  const char* name;
  std::function<Event()> make;
  std::optional<bool> prechecked;
  std::optional<bool> valid;
  bool id_set = false;
};

class EdgeChains : public testing::TestWithParam<EdgeCase> {};

TEST_P(EdgeChains, Agree) {
  const EdgeCase& ec = GetParam();
  const OptionSet o(now_us());
  const Chain c{ec.make(), ec.id_set, ec.name};
  if (ec.prechecked) {
    EXPECT_EQ(c.event.prechecked(), *ec.prechecked) << c.event.text();
  }
  if (ec.valid) {
    NormalizedEvent out;
    const EventProblems p = checked(c.event, o.plain, &out);
    EXPECT_EQ(p.ok(), *ec.valid) << testing::PrintToString(p.errors) << "\n" << c.event.text();
  }
  expect_agree(c, o);
}

Event payment_without_status() { return EventBuilder("payment").order_id("o-1").value(10).currency("EUR").anonymous_id("a1"); }

INSTANTIATE_TEST_SUITE_P(
    Boundaries, EdgeChains,
    testing::Values(
        // ids: 1-128 characters; the builder counts bytes, and vouches for nothing escaped in the key
        EdgeCase{"id_128_ascii", [] { return refund("o-1").anonymous_id(rep(128, "x")); }, true, true},
        EdgeCase{"id_129_ascii", [] { return refund("o-1").anonymous_id(rep(129, "x")); }, false, false},
        EdgeCase{"order_id_129_ascii", [] { return refund(rep(129, "x")).anonymous_id("a1"); }, false, false},
        EdgeCase{"id_100_two_byte_chars", [] { return refund("o-1").anonymous_id(rep(100, "\xc3\xa9")); }, false, true},
        EdgeCase{"id_129_two_byte_chars", [] { return refund("o-1").anonymous_id(rep(129, "\xc3\xa9")); }, false, false},
        EdgeCase{"product_id_129", [] { return add_to_cart(Product{.id = rep(129, "p")}).anonymous_id("a1"); }, false, false},
        EdgeCase{"empty_anonymous_id_with_user_id", [] { return refund("o-1").anonymous_id("").user_id("u1"); }, false, false},
        EdgeCase{"empty_user_id_with_anonymous_id", [] { return refund("o-1").anonymous_id("a1").user_id(""); }, false, false},
        EdgeCase{"no_anonymous_id_nor_user_id", [] { return refund("o-1").session_id("s1"); }, false, false},
        EdgeCase{"anonymous_id_with_quote", [] { return refund("o-1").anonymous_id("a\"1"); }, false, true},
        EdgeCase{"anonymous_id_with_backslash", [] { return refund("o-1").anonymous_id("a\\1"); }, false, true},
        EdgeCase{"user_id_with_control", [] { return refund("o-1").user_id("u\x01"); }, false, true},
        EdgeCase{"empty_session_id", [] { return refund("o-1").anonymous_id("a1").session_id(""); }, false, false},
        // amounts
        EdgeCase{"negative_value", [] { return purchase("o-1", -1, "EUR").anonymous_id("a1"); }, false, false},
        EdgeCase{"negative_price", [] { return add_to_cart(Product{.id = "p", .price = -0.5}, "EUR").anonymous_id("a1"); }, false, false},
        EdgeCase{"negative_tax", [] { return purchase("o-1", 1, "EUR").anonymous_id("a1").tax(-0.01); }, false, false},
        EdgeCase{"negative_zero_value", [] { return purchase("o-1", -0.0, "EUR").anonymous_id("a1"); }, std::nullopt, true},
        EdgeCase{"nan_value", [] { return purchase("o-1", std::nan(""), "EUR").anonymous_id("a1"); }, false, false},
        EdgeCase{"tiny_and_huge_values",
                 [] { return purchase("o-1", 5e-324, "EUR").anonymous_id("a1").tax(1.7976931348623157e308); }, true, true},
        EdgeCase{"priced_product_without_currency", [] { return add_to_cart(kMug).anonymous_id("a1"); }, false, false},
        EdgeCase{"priced_item_without_currency",
                 [] { return EventBuilder("custom").name("wishlist").anonymous_id("a1").item(kMug); }, false, false},
        EdgeCase{"discount_without_currency", [] { return refund("o-1").anonymous_id("a1").discount(1); }, false, false},
        EdgeCase{"priced_product_replaced_by_unpriced",
                 [] { return add_to_cart(kMug).anonymous_id("a1").product(kUnpriced); }, std::nullopt, true},
        EdgeCase{"lower_case_currency", [] { return purchase("o-1", 1, "eur").anonymous_id("a1"); }, false, false},
        EdgeCase{"currency_on_unpriced_view", [] { return view(kUnpriced, "eur").anonymous_id("a1"); }, false, false},
        EdgeCase{"checkout_without_currency",
                 [] { return EventBuilder("checkout").checkout_id("c").value(1).anonymous_id("a1"); }, false, false},
        // statuses
        EdgeCase{"payment_status_bogus", [] { return payment("o-1", 1, "EUR", "bogus").anonymous_id("a1"); }, false, false},
        EdgeCase{"payment_status_shipped", [] { return payment("o-1", 1, "EUR", "shipped").anonymous_id("a1"); }, false, false},
        EdgeCase{"shipping_status_shipped", [] { return shipping("o-1", "shipped").anonymous_id("a1"); }, true, true},
        EdgeCase{"shipping_status_bogus", [] { return shipping("o-1", "bogus").anonymous_id("a1"); }, false, false},
        EdgeCase{"shipping_status_captured", [] { return shipping("o-1", "captured").anonymous_id("a1"); }, false, false},
        EdgeCase{"shipping_without_status",
                 [] { return EventBuilder("shipping").order_id("o-1").anonymous_id("a1"); }, false, false},
        EdgeCase{"status_on_a_view_is_free", [] { return view(kUnpriced).anonymous_id("a1").status("bogus"); }, std::nullopt, true},
        EdgeCase{"payment_without_status", payment_without_status, false, true},
        // stage (a valid one is kept and no default added), event_id, type, name
        EdgeCase{"stage_purchase", [] { return add_to_cart(kUnpriced).anonymous_id("a1").stage("purchase"); }, true, true},
        EdgeCase{"stage_other_than_default", [] { return view(kUnpriced).anonymous_id("a1").stage("retention"); }, true, true},
        EdgeCase{"stage_on_custom", [] { return custom("x").anonymous_id("a1").stage("advocacy"); }, true, true},
        EdgeCase{"stage_nope", [] { return add_to_cart(kUnpriced).anonymous_id("a1").stage("nope"); }, false, false},
        EdgeCase{"event_id_bad", [] { return refund("o-1").anonymous_id("a1").event_id("bad id!"); }, false, false, true},
        EdgeCase{"event_id_65", [] { return refund("o-1").anonymous_id("a1").event_id(rep(65, "e")); }, false, false, true},
        EdgeCase{"event_id_empty", [] { return refund("o-1").anonymous_id("a1").event_id(""); }, false, false, true},
        EdgeCase{"unknown_type", [] { return EventBuilder("nope").anonymous_id("a1"); }, false, false},
        EdgeCase{"custom_without_name", [] { return EventBuilder("custom").anonymous_id("a1"); }, false, false},
        EdgeCase{"custom_empty_name", [] { return custom("").anonymous_id("a1"); }, false, false},
        EdgeCase{"custom_name_129", [] { return custom(rep(129, "n")).anonymous_id("a1"); }, false, false},
        EdgeCase{"name_on_a_view", [] { return view(kUnpriced).anonymous_id("a1").name("x"); }, false, false},
        // channel
        EdgeCase{"channel_unknown_field", [] { return view(kUnpriced).anonymous_id("a1").channel("bogus", "x"); }, false, false},
        EdgeCase{"channel_source_512", [] { return view(kUnpriced).anonymous_id("a1").source(rep(512, "s")); }, true, true},
        EdgeCase{"channel_source_513", [] { return view(kUnpriced).anonymous_id("a1").source(rep(513, "s")); }, false, false},
        EdgeCase{"channel_source_300_two_byte_chars",
                 [] { return view(kUnpriced).anonymous_id("a1").source(rep(300, "\xc3\xa9")); }, false, true},
        // required fields
        EdgeCase{"view_without_product_or_page", [] { return EventBuilder("view").anonymous_id("a1"); }, false, false},
        EdgeCase{"view_empty_page_url", [] { return EventBuilder("view").anonymous_id("a1").page(""); }, false, false},
        EdgeCase{"view_empty_page_url_with_title",
                 [] { return EventBuilder("view").anonymous_id("a1").page("", "Title"); }, false, false},
        EdgeCase{"add_to_cart_without_product", [] { return EventBuilder("add_to_cart").anonymous_id("a1"); }, false, false},
        EdgeCase{"purchase_without_value",
                 [] { return EventBuilder("purchase").order_id("o-1").currency("EUR").anonymous_id("a1"); }, false, false},
        EdgeCase{"product_quantity_0", [] { return add_to_cart(Product{.id = "p", .quantity = 0}).anonymous_id("a1"); }, false, false},
        EdgeCase{"item_quantity_negative",
                 [] { return purchase("o-1", 1, "EUR").anonymous_id("a1").item(Product{.id = "p", .quantity = -3}); }, false, false},
        EdgeCase{"empty_items", [] { return purchase("o-1", 1, "EUR").anonymous_id("a1").items({}); }, true, true},
        EdgeCase{"step_0_on_checkout", [] { return checkout("co-1", 1, "EUR").anonymous_id("a1").step(0); }, false, false},
        EdgeCase{"step_0_on_a_view_is_free", [] { return view(kUnpriced).anonymous_id("a1").step(0); }, false, true},
        // what the builder never vouches for
        EdgeCase{"timestamp_now", [] { return refund("o-1").anonymous_id("a1").timestamp(now_us()); }, false, true},
        EdgeCase{"timestamp_2h_ahead",
                 [] { return refund("o-1").anonymous_id("a1").timestamp(now_us() + std::chrono::hours(2)); }, false, false},
        EdgeCase{"timestamp_text_bogus", [] { return refund("o-1").anonymous_id("a1").timestamp("bogus"); }, false, false},
        EdgeCase{"context_json", [] { return refund("o-1").anonymous_id("a1").context("x", Json{{"a", 1}}); }, false, true},
        EdgeCase{"context_ip", [] { return refund("o-1").anonymous_id("a1").context("ip", "10.0.0.1"); }, false, true},
        EdgeCase{"context_page_then_page",
                 [] { return EventBuilder("view").anonymous_id("a1").context("page", Json{{"path", "/"}}).page("https://x/"); }, false, true},
        EdgeCase{"property_json", [] { return refund("o-1").anonymous_id("a1").property("x", Json::array({1, 2})); }, false, true},
        EdgeCase{"property_price_without_currency",
                 [] { return refund("o-1").anonymous_id("a1").property("price", 3); }, false, false},
        EdgeCase{"property_items_then_item",
                 [] { return purchase("o-1", 1, "EUR").anonymous_id("a1").property("items", Json::array()).item(kMug); }, false, true},
        // what JSON text cannot carry: the builder switches to Json
        EdgeCase{"invalid_utf8_anonymous_id", [] { return refund("o-1").anonymous_id("\xff\xfe"); }, false, false},
        EdgeCase{"invalid_utf8_product_name",
                 [] { return add_to_cart(Product{.id = "p", .name = "\xc0\x80"}).anonymous_id("a1"); }, false, false},
        EdgeCase{"surrogate_in_coupon", [] { return checkout("co-1", 1, "EUR").anonymous_id("a1").coupon("\xed\xa0\x80"); }, false, false},
        EdgeCase{"invalid_utf8_channel_field", [] { return view(kUnpriced).anonymous_id("a1").channel("\xff", "x"); }, false, false},
        EdgeCase{"infinite_price",
                 [] { return add_to_cart(Product{.id = "p", .price = INFINITY}, "EUR").anonymous_id("a1"); }, false, false}),
    [](const testing::TestParamInfo<EdgeCase>& i) { return std::string(i.param.name); });

// Tracker::track(Event&&): the builder's text becomes the stored form in place,
// with the defaults written over its closing brace.
TEST(Prechecked, AnRvalueEventsBufferBecomesTheStoredForm) {
  Event e = view(kMug, "EUR").anonymous_id("a-1").event_id("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
  ASSERT_TRUE(e.prechecked());
  const char* buffer = e.text().data();
  const std::string text = e.text();
  NormalizeOptions opts;
  opts.received_at = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  NormalizedEvent copied, taken;
  ASSERT_TRUE(normalize_event(std::as_const(e), opts, &copied).ok());
  ASSERT_TRUE(normalize_event(std::move(e), opts, &taken).ok());
  EXPECT_EQ(taken.json.data(), buffer) << "no copy";
  EXPECT_EQ(taken.json, copied.json);
  EXPECT_EQ(taken.json.substr(0, text.size() - 1), text.substr(0, text.size() - 1));
  EXPECT_EQ(taken.event_id, "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
  EXPECT_EQ(taken.key, "a-1");
  EXPECT_EQ(e.text(), "{}") << "left as the empty object";
}

TEST(Prechecked, PaymentWithoutStatusGetsTheNestedDefault) {
  const OptionSet o(now_us());
  const Event e = payment_without_status();
  EXPECT_FALSE(e.prechecked());
  NormalizedEvent out;
  ASSERT_TRUE(normalize_event(e, o.plain, &out).ok());
  EXPECT_NE(out.json.find("\"status\":\"captured\""), std::string::npos) << out.json;
}

TEST(Prechecked, InvalidUtf8GoesTheJsonWay) {
  const OptionSet o(now_us());
  const Event e = refund("o-1").anonymous_id("a1").session_id("\xff");
  ASSERT_FALSE(e.has_text());
  NormalizedEvent out;
  const EventProblems p = normalize_event(e, o.plain, &out);
  EXPECT_EQ(p.errors, std::vector<std::string>{"session_id: is not valid UTF-8"});
  expect_agree(Chain{e, false, "invalid UTF-8 session_id"}, o);
}

// Near 32 KiB: many items plus a coupon sized to land the text, or the stored event,
// exactly on either side of a limit.
class NearTheSizeLimit : public testing::Test {
 protected:
  static EventBuilder big(size_t filler) {
    std::vector<Product> items;
    for (int i = 0; i < 700; ++i) items.push_back(Product{.id = "sku-" + std::to_string(i), .price = 1.5});
    return purchase("o-1", 1050, "EUR").anonymous_id("a1").items(items).coupon(std::string(filler, 'c'));
  }
  // A filler giving a text of exactly `bytes`.
  static size_t filler_for(size_t bytes) {
    const size_t base = big(0).build().text().size();
    EXPECT_LT(base, bytes);
    return bytes - base;
  }
  const OptionSet o_{now_us()};
};

TEST_F(NearTheSizeLimit, TheBuilderKeepsRoomForTheDefaults) {
  constexpr size_t kRoom = 256;  // builders.cpp kDefaultsRoom
  const Event at = big(filler_for(Limits::max_event_bytes - kRoom)).build();
  ASSERT_EQ(at.text().size(), Limits::max_event_bytes - kRoom);
  EXPECT_TRUE(at.prechecked());
  expect_agree(Chain{at, false, "text of 32 KiB - 256"}, o_);
  const Event over = big(filler_for(Limits::max_event_bytes - kRoom + 1)).build();
  EXPECT_FALSE(over.prechecked());
  NormalizedEvent out;
  EXPECT_TRUE(checked(over, o_.plain, &out).ok());
  expect_agree(Chain{over, false, "text of 32 KiB - 255"}, o_);
}

TEST_F(NearTheSizeLimit, TheStoredEventOnEitherSideOfTheLimit) {
  // The defaults' size, measured once: a stored event of exactly the limit, and one byte over.
  const Event probe = big(filler_for(30000)).build();
  NormalizedEvent out;
  ASSERT_TRUE(checked(probe, o_.plain, &out).ok());
  const size_t defaults = out.json.size() - probe.text().size();
  for (size_t stored : {Limits::max_event_bytes - 1, Limits::max_event_bytes, Limits::max_event_bytes + 1}) {
    SCOPED_TRACE(stored);
    const Event e = big(filler_for(stored - defaults)).build();
    EXPECT_FALSE(e.prechecked());
    const EventProblems p = checked(e, o_.plain, &out);
    EXPECT_EQ(p.ok(), stored <= Limits::max_event_bytes) << testing::PrintToString(p.errors);
    if (p.ok()) {
      EXPECT_EQ(out.json.size(), stored);
    }
    expect_agree(Chain{e, false, "stored event near 32 KiB"}, o_);
  }
  // Far over: 900 more items.
  std::vector<Product> more(900, Product{.id = "sku-x", .price = 1.5});
  const Event huge = big(0).items(more).anonymous_id("a2");
  EXPECT_FALSE(huge.prechecked());
  EXPECT_EQ(checked(huge, o_.plain, &out).kind, EventProblems::Kind::invalid);
  expect_agree(Chain{huge, false, "over 32 KiB"}, o_);
}

// ---------------------------------------------------------------------------------
// 3. Random chains (fixed seed), every one held to the checked path.

class RandomSource : public builder_chain::Source {
 public:
  explicit RandomSource(uint32_t seed) : rng_(seed) {}
  uint32_t below(uint32_t n) override { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng_); }
  std::string raw(size_t max) override {
    // Bytes that matter to JSON text and UTF-8: escapes, controls, lead and
    // continuation bytes, the surrogate and overlong leads, bytes never in UTF-8.
    static constexpr unsigned char kBytes[] = {'a', 'Z', '0', '-', '"', '\\', '\n', 0x01, 0x00, 0x7f,
                                               0xc3, 0xa9, 0x80, 0xbf, 0xe6, 0xed, 0xa0, 0xf0, 0x9f, 0xc0, 0xff};
    std::string s(below(static_cast<uint32_t>(max) + 1), '\0');
    for (char& c : s) c = static_cast<char>(kBytes[below(sizeof kBytes)]);
    return s;
  }

 private:
  std::mt19937 rng_;
};

TEST(Prechecked, RandomChainsAgree) {
  // About 4 s in a Debug build (most of it the Json parser taking the invalid texts on
  // both sides); a quarter of that under the sanitizers.
  const int kChains = std::getenv("JOURNEY_UNDER_SANITIZER") ? 4000 : 16000;
  RandomSource src(20261125);
  const OptionSet o(now_us());
  int prechecked = 0, text_unvouched = 0, json_form = 0, valid = 0, failures = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kChains && failures < 10; ++i) {
    const Chain c = builder_chain::make_chain(src, o.plain.received_at);
    if (c.event.prechecked()) ++prechecked;
    else if (c.event.has_text()) ++text_unvouched;
    else ++json_form;
    for (const NormalizeOptions* opts : {&o.plain, &o.skewed, &o.with_request}) {
      bool ok = false;
      const std::string d = builder_chain::disagreement(c, *opts, &ok);
      if (!d.empty()) {
        ++failures;
        ADD_FAILURE() << "chain " << i << ": " << c.calls << "\n" << d;
        break;
      }
      if (opts == &o.plain && ok) ++valid;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%d chains in %.2f s: %d prechecked, %d text not vouched for, %d Json form; %d valid\n", kChains,
              seconds, prechecked, text_unvouched, json_form, valid);
  // The fast path must be exercised, and so must the others.
  EXPECT_GT(prechecked, kChains / 20);
  EXPECT_GT(text_unvouched, kChains / 20);
  EXPECT_GT(json_form, kChains / 100);
  EXPECT_GT(valid, prechecked);
}

}  // namespace prechecked
