// The subcommands of the `tessera` binary. Each returns the process exit code.
#pragma once

namespace tessera::cmd {

enum class TrainRole { kByRank, kScheduler, kServer, kWorker };

// `tessera train|scheduler|server|worker`: one rank of a training job under mpirun.
int RunTrain(TrainRole role);
// `tessera gen-data`: writes a synthetic Criteo-format dataset.
int RunGenData();
// `tessera predict`: scores a data file with a trained model.
int RunPredict();
// `tessera inspect`: describes and verifies a model or checkpoint directory.
int RunInspect();
// `tessera split`: cuts a ratings file into a training and a test file.
int RunSplit();
// `tessera export`: writes a model for serving from a checkpoint or model directory.
int RunExport();

// `tessera recommend`: top-K items for users, or HR@K / NDCG@K of held-out interactions.
int RunRecommend();

}  // namespace tessera::cmd
