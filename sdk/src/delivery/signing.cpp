#include "delivery/signing.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace journey::delivery {

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

bool base64_decode(std::string_view text, std::string* out) {
  if (text.size() % 4 != 0) return false;
  std::string buf(3 * (text.size() / 4), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(buf.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return false;
  size_t len = static_cast<size_t>(n);
  // EVP_DecodeBlock keeps the zero bytes that padding stands for.
  if (!text.empty() && text.back() == '=') --len;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --len;
  buf.resize(len);
  *out = std::move(buf);
  return true;
}

bool signing_key(const std::string& secret, std::string* key, std::string* error) {
  constexpr std::string_view prefix = "whsec_";
  if (secret.compare(0, prefix.size(), prefix) != 0) {
    *key = secret;
    return true;
  }
  if (!base64_decode(std::string_view(secret).substr(prefix.size()), key) || key->empty()) {
    if (error) *error = "signing_secret: whsec_ secret is not valid base64";
    return false;
  }
  return true;
}

std::string webhook_signature(std::string_view key, std::string_view id, std::string_view timestamp,
                              std::string_view body) {
  std::string msg;
  msg.reserve(id.size() + timestamp.size() + body.size() + 2);
  msg.append(id).append(".").append(timestamp).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac, &len);
  return "v1," + base64_encode(std::string_view(reinterpret_cast<char*>(mac), len));
}

}  // namespace journey::delivery
