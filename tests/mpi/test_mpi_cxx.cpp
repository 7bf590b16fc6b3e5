// C++ including <nablas/mpi.h> without -DOMPI_SKIP_MPICXX: it compiles and links against the
// C libraries only, and trains one step over MPI_COMM_WORLD.
#include <nablas.h>
#include <nablas/mpi.h>

#include <cstdio>

int main(int argc, char **argv)
{
    if (MPI_Init(&argc, &argv) != MPI_SUCCESS)
        return 1;
    float x[4] = {0, 1, 2, 3}, t[4] = {1, 3, 5, 7};
    nb_tensor X = {4, 1, x, NULL}, T = {4, 1, t, NULL};
    nb_layer_spec L[1] = {{1, NB_ACT_IDENTITY, 0.0f}};
    nb_net *net = nullptr;
    nb_status s = nb_net_create(&net, 1, L, 1, 1);
    nb_train_opts o = nb_train_opts_default();
    o.batch_size = 4;
    o.epochs = 1;
    if (s == NB_OK)
        s = nb_mpi_train(net, MPI_COMM_WORLD, &X, &T, &o, nullptr);
    nb_net_free(net);
    MPI_Finalize();
    if (s != NB_OK) {
        std::fprintf(stderr, "nb_mpi_train: %s\n", nb_status_str(s));
        return 1;
    }
    return 0;
}
