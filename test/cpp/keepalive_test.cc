// applyKeepalive on a real loopback TCP connection: what the kernel ends up
// with decides how soon a silent peer fails the socket.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <uv.h>

#include "net/connection.h"

using namespace imap;

namespace {

int intOption(uv_tcp_t* tcp, int level, int name) {
  uv_os_fd_t fd;
  EXPECT_EQ(uv_fileno(reinterpret_cast<uv_handle_t*>(tcp), &fd), 0);
  int v = -1;
  socklen_t len = sizeof v;
  EXPECT_EQ(getsockopt(fd, level, name, &v, &len), 0);
  return v;
}

// A connected client socket on a private loop; torn down with the fixture.
class KeepaliveSocket : public ::testing::Test {
 protected:
  void SetUp() override {
    uv_loop_init(&loop_);
    uv_tcp_init(&loop_, &listener_);
    uv_tcp_init(&loop_, &client_);
    sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    ASSERT_EQ(uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&addr), 0), 0);
    ASSERT_EQ(uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 1, [](uv_stream_t*, int) {}), 0);
    sockaddr_storage bound;
    int len = sizeof bound;
    uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&bound), &len);
    connect_.data = this;
    ASSERT_EQ(uv_tcp_connect(&connect_, &client_, reinterpret_cast<const sockaddr*>(&bound),
                             [](uv_connect_t* r, int status) { static_cast<KeepaliveSocket*>(r->data)->status_ = status; }),
              0);
    while (status_ == 1) uv_run(&loop_, UV_RUN_ONCE);
    ASSERT_EQ(status_, 0);
  }

  void TearDown() override {
    uv_close(reinterpret_cast<uv_handle_t*>(&client_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }

  uv_loop_t loop_;
  uv_tcp_t listener_, client_;
  uv_connect_t connect_;
  int status_ = 1;
};

TEST_F(KeepaliveSocket, DefaultsFailASilentPeerWithin30Seconds) {
  ASSERT_EQ(applyKeepalive(&client_, KeepaliveOptions{}), 0);
  EXPECT_EQ(intOption(&client_, SOL_SOCKET, SO_KEEPALIVE), 1);
  int idle = intOption(&client_, IPPROTO_TCP, TCP_KEEPIDLE);
  int interval = intOption(&client_, IPPROTO_TCP, TCP_KEEPINTVL);
  int count = intOption(&client_, IPPROTO_TCP, TCP_KEEPCNT);
  EXPECT_EQ(idle, 15);
  EXPECT_EQ(interval, 5);
  EXPECT_EQ(count, 3);
  EXPECT_LE(idle + interval * count, 30);
  // Unacknowledged writes give up on the same deadline as the probes.
  EXPECT_EQ(intOption(&client_, IPPROTO_TCP, TCP_USER_TIMEOUT), 30000);
}

TEST_F(KeepaliveSocket, MillisecondsRoundUpToWholeSeconds) {
  ASSERT_EQ(applyKeepalive(&client_, KeepaliveOptions{1500, 1001, 2}), 0);
  EXPECT_EQ(intOption(&client_, IPPROTO_TCP, TCP_KEEPIDLE), 2);
  EXPECT_EQ(intOption(&client_, IPPROTO_TCP, TCP_KEEPINTVL), 2);
  EXPECT_EQ(intOption(&client_, IPPROTO_TCP, TCP_KEEPCNT), 2);
  EXPECT_EQ(intOption(&client_, IPPROTO_TCP, TCP_USER_TIMEOUT), 6000);
}

TEST_F(KeepaliveSocket, ZeroIdleLeavesTheSocketAlone) {
  ASSERT_EQ(applyKeepalive(&client_, KeepaliveOptions{0, 5000, 3}), 0);
  EXPECT_EQ(intOption(&client_, SOL_SOCKET, SO_KEEPALIVE), 0);
  EXPECT_EQ(intOption(&client_, IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
}

}  // namespace
