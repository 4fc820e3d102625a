// mpi_startup: the MPI part of a job's start-up, alone (issue 5, item 4). Each rank
// prints the wall-clock time (CLOCK_REALTIME, seconds) at which it entered main, left
// MPI_Init_thread (MPI_THREAD_MULTIPLE, as tessera asks), finished an Allgather of
// the size tessera's node table exchanges, and left a Barrier. bench/startup runs it
// through launch/tessera-run (same mpirun options as a job) and subtracts the time
// mpirun was started.
//
//   TESSERA_BIN=build/bench/mpi_startup launch/tessera-run --servers 2 --workers 2 -- probe
//
// Output: one line per rank, "STARTUP rank=R main=T init=T allgather=T barrier=T".
#include <mpi.h>

#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

namespace {

double Now() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  const double at_main = Now();
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  const double at_init = Now();
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::string mine(64, 'x');  // about a serialized NodeInfo
  std::vector<char> all(mine.size() * size);
  MPI_Allgather(mine.data(), static_cast<int>(mine.size()), MPI_CHAR, all.data(),
                static_cast<int>(mine.size()), MPI_CHAR, MPI_COMM_WORLD);
  const double at_allgather = Now();
  MPI_Barrier(MPI_COMM_WORLD);
  const double at_barrier = Now();
  std::printf("STARTUP rank=%d main=%.6f init=%.6f allgather=%.6f barrier=%.6f\n", rank, at_main,
              at_init, at_allgather, at_barrier);
  MPI_Finalize();
  return 0;
}
