// Signature, money parsing and email hashing: the building blocks of both adapters.
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include "plugin/webhooks/email.hpp"
#include "plugin/webhooks/money.hpp"
#include "plugin/webhooks/payload.hpp"
#include "plugin/webhooks/signature.hpp"

namespace journey::webhooks {
namespace {

TEST(Signature, KnownVectorRfc4231Case2) {
  // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
  EXPECT_EQ(hmac_sha256_base64("Jefe", "what do ya want for nothing?"),
            "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
}

TEST(Signature, AcceptsOnlyTheExactMac) {
  const std::string body = R"({"id":1})";
  const std::string good = hmac_sha256_base64("s3cret", body);
  EXPECT_TRUE(signature_valid("s3cret", body, good));
  EXPECT_TRUE(signature_valid("s3cret", body, " " + good + "\r\n"));
  EXPECT_FALSE(signature_valid("other", body, good));
  EXPECT_FALSE(signature_valid("s3cret", body + " ", good));
  EXPECT_FALSE(signature_valid("s3cret", body, ""));
  EXPECT_FALSE(signature_valid("s3cret", body, good.substr(0, good.size() - 1)));
  std::string flipped = good;
  flipped[5] = flipped[5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(signature_valid("s3cret", body, flipped));
  EXPECT_FALSE(signature_valid("", body, hmac_sha256_base64("", body)));
}

TEST(Money, ParsesDecimalStringsToTheNearestDouble) {
  EXPECT_EQ(parse_decimal("59.90"), 59.9);
  EXPECT_EQ(parse_decimal("0"), 0.0);
  EXPECT_EQ(parse_decimal("0.00"), 0.0);
  EXPECT_EQ(parse_decimal("112.72"), 112.72);
  EXPECT_EQ(parse_decimal("0.1"), 0.1);
  EXPECT_EQ(parse_decimal("1234567.89"), 1234567.89);
}

TEST(Money, RejectsEverythingButPlainDecimals) {
  for (const char* bad : {"1e3", "-1", "", "abc", "1.2.3", " 1", "1 ", "+1", ".5", "5.", "0x10",
                          "1,00", "NaN", "inf", "12345678901234567890123456789012345"}) {
    EXPECT_FALSE(parse_decimal(bad).has_value()) << bad;
  }
}

TEST(Money, FieldErrorsNameTheField) {
  const Json obj = {{"total", "1.2.3"}, {"neg", -2}, {"obj", {{"a", 1}}}, {"ok", "9.99"}, {"num", 4.5}};
  EXPECT_EQ(money_field(obj, "ok", "ok"), 9.99);
  EXPECT_EQ(money_field(obj, "num", "num"), 4.5);
  EXPECT_FALSE(money_field(obj, "absent", "absent").has_value());
  for (const char* key : {"total", "neg", "obj"}) {
    try {
      money_field(obj, key, std::string("line_items[3].") + key);
      ADD_FAILURE() << key << " accepted";
    } catch (const PayloadError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(std::string("line_items[3].") + key + ": ", 0), 0u) << e.what();
    }
  }
  EXPECT_THROW(required_money(obj, "absent", "total_price"), PayloadError);
  EXPECT_EQ(money_magnitude(Json{{"total", "-60.00"}}, "total", "refunds[0].total"), 60.0);
}

TEST(Money, SumsAsDecimalArithmeticDoes) {
  const auto sum = [](std::initializer_list<double> parts) {
    AmountSum s;
    for (double p : parts) s.add(p);
    return s.value();
  };
  EXPECT_EQ(sum({0.1, 0.2}), 0.3);  // the float sum is 0.30000000000000004
  EXPECT_EQ(sum({3.0, 0.1, 0.2}), 3.3);
  EXPECT_EQ(sum({80.0, 9.9}), 89.9);
  EXPECT_EQ(sum({}), 0.0);
  EXPECT_EQ(sum({19.999, 0.001}), 20.0);
  EXPECT_EQ(sum({1e-12, 1.0}), 1e-12 + 1.0);  // more than 9 decimals: the float sum
  EXPECT_EQ(sum({1e17, 0.5}), 1e17 + 0.5);    // past 2^53 units: the float sum
}

TEST(Email, HashesTheTrimmedLowerCasedAddress) {
  // sha256("ada.lovelace@example.com"), computed with sha256sum.
  const std::string expected = "e814ff3dc480a94c7ce9334062ec4733c75a002f4bcec0197f62ffea64059e2f";
  EXPECT_EQ(email_sha256("ada.lovelace@example.com"), expected);
  EXPECT_EQ(email_sha256("  Ada.Lovelace@Example.COM \n"), expected);
  EXPECT_EQ(email_sha256("   "), "");
}

// Letters beyond ASCII are lower-cased too, so one person's address hashes the
// same however a platform cased it.
TEST(Email, LowerCasesLettersBeyondAscii) {
  // sha256("josé.garcía@example.com"), computed with sha256sum.
  const std::string expected = "b1680f0bc5b95fd13cb44ad427877252d8c7c25c5531451e0550ed7bb8b9a035";
  EXPECT_EQ(email_sha256("jos\xc3\xa9" ".garc\xc3\xad" "a@example.com"), expected);
  EXPECT_EQ(email_sha256("JOS\xc3\x89" ".Garc\xc3\x8d" "A@Example.COM"), expected);
  // Greek, Cyrillic, Latin Extended-A and Vietnamese, each against its lower-case spelling.
  const std::pair<const char*, const char*> same[] = {
      {"\xce\x9d\xce\x99\xce\x9a\xce\x9f\xce\xa3@x.gr", "\xce\xbd\xce\xb9\xce\xba\xce\xbf\xcf\x83@x.gr"},  // ΝΙΚΟΣ
      {"\xd0\x98\xd0\x92\xd0\x90\xd0\x9d@x.ru", "\xd0\xb8\xd0\xb2\xd0\xb0\xd0\xbd@x.ru"},                  // ИВАН
      {"\xc5\x81\xc3\x93" "D\xc5\xb9@x.pl", "\xc5\x82\xc3\xb3" "d\xc5\xba@x.pl"},                                 // ŁÓDŹ
      {"\xe1\xba\xa0N@x.vn", "\xe1\xba\xa1n@x.vn"},                                                           // ẠN
  };
  for (const auto& [upper, lower] : same) EXPECT_EQ(email_sha256(upper), email_sha256(lower)) << lower;
  // Bytes that are not UTF-8 are hashed as they are, not dropped.
  EXPECT_NE(email_sha256("a\xff@x.com"), email_sha256("a@x.com"));
}

TEST(Payload, MalformedJsonNamesTheOffsetNotTheContent) {
  try {
    parse_payload(R"({"email": "secret@example.com", oops})");
    FAIL() << "accepted";
  } catch (const PayloadError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("body: malformed JSON at byte"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("secret"), std::string::npos) << msg;
  }
  EXPECT_THROW(parse_payload(std::string(100, '[') + std::string(100, ']')), PayloadError);
  EXPECT_THROW(parse_payload("[1,2]"), PayloadError);
}

// SPEC section 12: a message naming the problem, and the same nesting limit as
// every other front door.
TEST(Payload, InvalidUtf8NonFiniteNumbersAndDeepNestingAreNamed) {
  try {
    parse_payload("{\"note\": \"caf\xff\"}");
    FAIL() << "accepted";
  } catch (const PayloadError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("body: invalid UTF-8 at byte ", 0), 0u) << e.what();
  }
  try {
    parse_payload(R"({"total_price": 1e999})");
    FAIL() << "1e999 accepted";
  } catch (const PayloadError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("body: a number is not finite", 0), 0u) << e.what();
  }
  const auto nested = [](int levels) {
    return "{\"x\":" + std::string(levels - 1, '[') + std::string(levels - 1, ']') + "}";
  };
  EXPECT_NO_THROW(parse_payload(nested(32)));
  try {
    parse_payload(nested(33));
    FAIL() << "33 levels accepted";
  } catch (const PayloadError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("body: nesting deeper than 32 levels at byte ", 0), 0u) << e.what();
  }
}

TEST(Payload, DeterministicEventIdsStayWithinTheLimit) {
  EXPECT_EQ(deterministic_event_id("woocommerce", "shop.example.com:727", "purchase", 16),
            "woocommerce:shop.example.com:727:purchase");
  const std::string long_host(80, 'a');
  const std::string id = deterministic_event_id("woocommerce", long_host + ":727", "payment-captured", 16);
  EXPECT_LE(id.size(), 64u);
  EXPECT_EQ(id, deterministic_event_id("woocommerce", long_host + ":727", "payment-captured", 16));
  EXPECT_NE(id, deterministic_event_id("woocommerce", long_host + ":728", "payment-captured", 16));
  EXPECT_EQ(deterministic_event_id("shopify", "bad id/with slash", "refund", 8).find('/'), std::string::npos);
}

TEST(Payload, EveryTypeOfOneOrderTakesTheSameForm) {
  // 33 + 7 characters: "woocommerce:<middle>:purchase" fits in 64, ":payment-captured" does not.
  const std::string middle = "shop.northpeak-outdoor-gear.co.uk:123456";
  const std::string purchase = deterministic_event_id("woocommerce", middle, "purchase", 16);
  const std::string payment = deterministic_event_id("woocommerce", middle, "payment-captured", 16);
  EXPECT_LE(payment.size(), 64u);
  EXPECT_EQ(purchase.substr(0, purchase.rfind(':')), payment.substr(0, payment.rfind(':')));
  EXPECT_EQ(purchase.find(middle), std::string::npos);  // both hashed
  EXPECT_EQ(purchase.substr(purchase.rfind(':') + 1), "purchase");
}

}  // namespace
}  // namespace journey::webhooks
