#include "bench/peer_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

namespace tessera::bench {

StatusOr<std::string> ForkPeer(const std::function<Status(int fd)>& serve, pid_t* child) {
  int fds[2];
  if (pipe(fds) != 0) return Status::IOError("pipe failed");
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return Status::IOError("fork failed");
  if (pid == 0) {
    close(fds[0]);
    Status s = serve(fds[1]);
    if (!s.ok()) std::fprintf(stderr, "kv_bench peer: %s\n", s.ToString().c_str());
    std::fflush(stderr);
    _exit(s.ok() ? 0 : 1);
  }
  close(fds[1]);
  *child = pid;
  std::string endpoint;
  char ch;
  while (read(fds[0], &ch, 1) == 1 && ch != '\n') endpoint += ch;
  close(fds[0]);
  if (endpoint.empty()) {
    KillPeer(pid);
    return Status::Unavailable("the forked peer reported no endpoint");
  }
  return endpoint;
}

Status ReapPeer(pid_t child) {
  for (int i = 0; i < 1000; ++i) {
    int status = 0;
    if (waitpid(child, &status, WNOHANG) == child) {
      return WIFEXITED(status) && WEXITSTATUS(status) == 0
                 ? Status::OK()
                 : Status::Aborted("the forked peer failed");
    }
    usleep(10000);
  }
  KillPeer(child);
  return Status::DeadlineExceeded("the forked peer did not exit within 10 s");
}

void KillPeer(pid_t child) {
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
}

}  // namespace tessera::bench
