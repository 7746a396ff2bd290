// What the node core makes of an officer's request before it records anything.
#include "node/node_core.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ledger/record.hpp"
#include "node/network_setup.hpp"
#include "tests/seeds.hpp"

namespace umupaka {
namespace {

SiteEntry site(const std::string& id, SiteKind kind, VoterRole role, uint8_t n) {
  SiteEntry e;
  e.site = id;
  e.kind = kind;
  e.role = role;
  e.signing_key = SigningKey::from_seed(test::filled_seed(n)).public_key();
  e.transport_key = std::string(40, static_cast<char>('a' + n));
  e.peer = "tcp://127.0.0.1:" + std::to_string(7500 + n);
  e.api = "http://127.0.0.1:" + std::to_string(7400 + n);
  return e;
}

// hq, two posts, an airport and an embassy; rubavu revoked afterwards.
Membership network() {
  auto genesis = make_genesis(test::filled_seed(1), "net-test",
                              {site("hq", SiteKind::hq, VoterRole::voter, 2),
                               site("gatuna", SiteKind::border_post, VoterRole::learner, 3),
                               site("rubavu", SiteKind::border_post, VoterRole::learner, 4),
                               site("kigali-airport", SiteKind::airport, VoterRole::learner, 5),
                               site("embassy-nairobi", SiteKind::embassy, VoterRole::learner, 6)},
                              1'000);
  EXPECT_TRUE(genesis.ok()) << genesis.error().message;
  auto m = Membership::from_genesis(*genesis);
  EXPECT_TRUE(m.ok()) << m.error().message;
  auto revoked = make_root_record(test::filled_seed(1), "net-test", m->root_seq(), m->root_head(),
                                  SiteRevoked{"rubavu", 0, "stolen laptop"}, 2'000);
  EXPECT_TRUE(revoked.ok()) << revoked.error().message;
  auto rec = open_record(*revoked, m->root_key());
  EXPECT_TRUE(rec.ok()) << rec.error().message;
  EXPECT_TRUE(m->apply(*rec, revoked->hash).ok());
  return *m;
}

CrossingRequest crossing_at(std::optional<std::string> post) {
  CrossingRequest r;
  r.post = std::move(post);
  r.traveller = Person{"MUGISHA", "ERIC", "UGA", Date{7000}, Sex::male};
  r.document = DocumentRef{DocumentKind::passport, "UGA", "B100", Date{30000}};
  return r;
}

TEST(CheckRequestFrom, ThePostIsABorderPostOrAirportThisSiteOrALiveOneOfTheNetwork) {
  const Membership m = network();
  const NodeIdentity hq{"net-test", "hq", SiteKind::hq};
  const Date today{20000};
  for (const std::string post : {"gatuna", "kigali-airport"}) {
    auto req = check_request_from(crossing_at(post), hq, m, today);
    ASSERT_TRUE(req.ok()) << post << ": " << req.error().message;
    EXPECT_EQ(req->post, post);
    // The mode left out is the post's: air at an airport, road at a border post.
    EXPECT_EQ(req->mode, post == "kigali-airport" ? TravelMode::air : TravelMode::road) << post;
  }
  // Unnamed, the post is this site: a border post's or an airport's own.
  for (const auto& self : {NodeIdentity{"net-test", "gatuna", SiteKind::border_post},
                           NodeIdentity{"net-test", "kigali-airport", SiteKind::airport}}) {
    auto own = check_request_from(crossing_at(std::nullopt), self, m, today);
    ASSERT_TRUE(own.ok()) << self.site << ": " << own.error().message;
    EXPECT_EQ(own->post, self.site);
  }
  // HQ is no crossing point: it names the post.
  for (const auto& post : std::vector<std::optional<std::string>>{std::nullopt, "hq"}) {
    auto own = check_request_from(crossing_at(post), hq, m, today);
    ASSERT_FALSE(own.ok()) << post.value_or("(none)");
    EXPECT_EQ(own.error().field, "post");
    EXPECT_NE(own.error().message.find("hq is a site of kind hq, not a border post or an airport"),
              std::string::npos)
        << own.error().message;
  }
  // An embassy, abroad, records no crossing: not its own, nor one at a post.
  const NodeIdentity embassy{"net-test", "embassy-nairobi", SiteKind::embassy};
  for (const auto& post :
       std::vector<std::optional<std::string>>{std::nullopt, "embassy-nairobi", "gatuna"}) {
    auto req = check_request_from(crossing_at(post), embassy, m, today);
    ASSERT_FALSE(req.ok()) << post.value_or("(none)");
    EXPECT_EQ(req.error().field, "post");
    EXPECT_NE(req.error().message.find("embassy-nairobi is an embassy"), std::string::npos)
        << req.error().message;
  }

  const std::vector<std::pair<std::string, std::string>> refused = {
      {"ruhwa", "is not a site of this network"},
      {"rubavu", "was revoked by HQ"},
      {"embassy-nairobi", "is embassy, not a border post or an airport"},
      {"Gatuna!", "is not a valid site id"},
  };
  for (const auto& [post, says] : refused) {
    auto req = check_request_from(crossing_at(post), hq, m, today);
    ASSERT_FALSE(req.ok()) << post;
    EXPECT_EQ(req.error().field, "post") << post;
    EXPECT_NE(req.error().message.find(says), std::string::npos) << req.error().message;
  }
  // A node that has not joined knows no other site.
  auto standalone = check_request_from(crossing_at("gatuna"), hq, Membership{}, today);
  ASSERT_FALSE(standalone.ok());
  EXPECT_EQ(standalone.error().field, "post");
}

}  // namespace
}  // namespace umupaka
