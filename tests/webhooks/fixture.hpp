// Test helpers: fixture payloads signed like the platforms sign them.
#pragma once
#include <string>
#include <vector>

#include "journey/json.hpp"
#include "journey/webhooks.hpp"

namespace journey::webhooks::test {

inline const std::string kShopifySecret = "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";
inline const std::string kWooSecret = "wc-secret-Kx8!p2#Lz";

std::string read_fixture(const std::string& relative);  // under tests/data/webhooks/

Request shopify_request(const std::string& topic, const std::string& body,
                        const std::string& webhook_id = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043");
Request woo_request(const std::string& topic, const std::string& body,
                    const std::string& source = "https://shop.example.com/");

// Runs every event through journey::validate_and_normalize; returns all problems.
std::vector<std::string> validate_all(std::vector<Json>& events);

}  // namespace journey::webhooks::test
