#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "imap/token.h"

using imap::TokenBroker;

namespace {

struct Fixture {
  std::vector<std::string> requests;
  TokenBroker broker{[this](const std::string& id) { requests.push_back(id); }, 1000};
};

}  // namespace

TEST(TokenBroker, OneRefreshServesEveryWaiter) {
  Fixture f;
  std::vector<std::string> got;
  for (int i = 0; i < 4; ++i) f.broker.get("a", false, 0, [&](const std::string& t, const std::string&) { got.push_back(t); });
  EXPECT_EQ(f.requests.size(), 1u);
  f.broker.provide("a", "tok", 10000, "");
  EXPECT_EQ(got, std::vector<std::string>(4, "tok"));
}

TEST(TokenBroker, CachedUntilWithinTheRefreshMargin) {
  Fixture f;
  f.broker.get("a", false, 0, [](const std::string&, const std::string&) {});
  f.broker.provide("a", "tok", 10000, "");
  std::string token;
  f.broker.get("a", false, 8999, [&](const std::string& t, const std::string&) { token = t; });
  EXPECT_EQ(token, "tok");
  EXPECT_EQ(f.requests.size(), 1u);
  f.broker.get("a", false, 9001, [&](const std::string& t, const std::string&) { token = t; });
  EXPECT_EQ(f.requests.size(), 2u);  // inside the margin: refreshed ahead of expiry
}

TEST(TokenBroker, ForceDiscardsTheCache) {
  Fixture f;
  f.broker.get("a", false, 0, [](const std::string&, const std::string&) {});
  f.broker.provide("a", "old", 0, "");  // unknown expiry: cached until rejected
  f.broker.get("a", false, 1e12, [](const std::string&, const std::string&) {});
  EXPECT_EQ(f.requests.size(), 1u);
  f.broker.get("a", true, 0, [](const std::string&, const std::string&) {});
  EXPECT_EQ(f.requests.size(), 2u);
}

TEST(TokenBroker, ErrorsReachEveryWaiterAndAreNotCached) {
  Fixture f;
  std::vector<std::string> errors;
  for (int i = 0; i < 2; ++i)
    f.broker.get("a", false, 0, [&](const std::string& t, const std::string& e) {
      EXPECT_TRUE(t.empty());
      errors.push_back(e);
    });
  f.broker.provide("a", "", 0, "refresh token revoked");
  EXPECT_EQ(errors, std::vector<std::string>(2, "refresh token revoked"));
  f.broker.get("a", false, 0, [](const std::string&, const std::string&) {});
  EXPECT_EQ(f.requests.size(), 2u);
}

TEST(TokenBroker, ForgetFailsWaitersAndAnswersAfterwardsAreIgnored) {
  Fixture f;
  std::string error;
  f.broker.get("a", false, 0, [&](const std::string&, const std::string& e) { error = e; });
  f.broker.forget("a");
  EXPECT_EQ(error, "account removed");
  f.broker.provide("a", "late", 0, "");  // no crash, nothing to deliver to
}

TEST(TokenBroker, AnAnswerNobodyAskedForIsIgnored) {
  Fixture f;
  std::vector<std::string> got;
  f.broker.get("a", false, 0, [&](const std::string& t, const std::string&) { got.push_back(t); });
  f.broker.provide("a", "new", 0, "");
  f.broker.provide("a", "late", 0, "");  // a second answer to the same request
  f.broker.get("a", false, 0, [&](const std::string& t, const std::string&) { got.push_back(t); });
  EXPECT_EQ(got, (std::vector<std::string>{"new", "new"}));
  EXPECT_EQ(f.requests.size(), 1u);
}
