/* System V IPC beyond the notes' "shared memory" (sysvipc(7), msgget(2),
 * msgop(2), shmctl(2), shmat(2), semop(2)): permissions, removal, undo. */
#include "ipcproof.h"

#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

/* A key of this case alone: the pid keeps concurrent runs apart. */
static key_t own_key(int which)
{
	return (key_t)(0x69700000 | ((getpid() & 0xffff) << 4) | which);
}

struct msg1 {
	long mtype;
	char text[8];
};

CASE(ipc, sysv_queue_permissions_are_checked_per_operation_against_its_mode, "ipc.sysv.permissions-per-operation",
     NEEDS("root"))
{
	key_t key = own_key(1);
	int id = (int)SAFE(msgget(key, IPC_CREAT | IPC_EXCL | 0600));
	pid_t child;
	IN_CHILD(child) {
		struct msg1 m = { 1, "hi" };
		CHILD_EXPECT(setgid(65534) == 0 && setuid(65534) == 0, "dropping to 65534: %s", hx_errno_name(errno));
		int got = msgget(key, 0);
		CHILD_EXPECT(got == id, "msgget(key, 0) asking no mode bits: %s", hx_errno_name(errno));
		CHILD_EXPECT(msgget(key, 0400) == -1 && errno == EACCES, "msgget(key, 0400): %s", hx_errno_name(errno));
		CHILD_EXPECT(msgsnd(id, &m, 2, IPC_NOWAIT) == -1 && errno == EACCES, "msgsnd on 0600: %s",
			     hx_errno_name(errno));
		CHILD_EXPECT(msgctl(id, IPC_RMID, NULL) == -1 && errno == EPERM, "IPC_RMID by another user: %s",
			     hx_errno_name(errno));
		hx_evidence("mode_0600", "msgget_0=ok,msgget_0400=EACCES,msgsnd=EACCES,rmid=EPERM");
		hx_checkpoint_wake(1);
		hx_checkpoint_wait(0);
		CHILD_EXPECT(msgsnd(id, &m, 2, IPC_NOWAIT) == 0, "msgsnd on 0622: %s", hx_errno_name(errno));
		CHILD_EXPECT(msgrcv(id, &m, sizeof m.text, 0, IPC_NOWAIT) == -1 && errno == EACCES, "msgrcv on 0622: %s",
			     hx_errno_name(errno));
		hx_evidence("mode_0622", "msgsnd=ok,msgrcv=EACCES");
	}
	if (!hx_checkpoint_try_wait(1, hx_bound_s()))
		EXPECT_EXITS(child, 0);	/* says why the child stopped short */
	struct msqid_ds ds;
	SAFE(msgctl(id, IPC_STAT, &ds));
	ds.msg_perm.mode = 0622;
	SAFE(msgctl(id, IPC_SET, &ds));
	hx_checkpoint_wake(0);

	EXPECT_EXITS(child, 0);
	EXPECT_FAILS_WITH(msgget(key, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
	EXPECT_FAILS_WITH(msgget(own_key(2), 0600), ENOENT);
	msgctl(id, IPC_RMID, NULL);
}

CASE(ipc, removing_a_queue_wakes_a_blocked_msgrcv_with_eidrm, "ipc.sysv.rmid-wakes-blocked-callers-with-eidrm")
{
	int id = (int)SAFE(msgget(IPC_PRIVATE, 0600));
	pid_t child;
	IN_CHILD(child) {
		struct msg1 m;
		ssize_t r = msgrcv(id, &m, sizeof m.text, 0, 0);
		hx_evidence("msgrcv_errno", "%s", r < 0 ? hx_errno_name(errno) : "none");
		CHILD_EXPECT(r == -1 && errno == EIDRM, "msgrcv returned %zd (%s)", r, hx_errno_name(errno));
	}
	EXPECT_BLOCKED_IN(child, "msgrcv");

	SAFE(msgctl(id, IPC_RMID, NULL));

	EXPECT_EXITS(child, 0);
}

CASE(ipc, removing_a_semaphore_set_wakes_a_blocked_semop_with_eidrm, "ipc.sysv.rmid-wakes-blocked-callers-with-eidrm")
{
	int id = (int)SAFE(semget(IPC_PRIVATE, 1, 0600));
	pid_t child;
	IN_CHILD(child) {
		struct sembuf take = { 0, -1, 0 };
		int r = semop(id, &take, 1);
		hx_evidence("semop_errno", "%s", r < 0 ? hx_errno_name(errno) : "none");
		CHILD_EXPECT(r == -1 && errno == EIDRM, "semop returned %d (%s)", r, hx_errno_name(errno));
	}
	EXPECT_BLOCKED_IN(child, "semtimedop");

	SAFE(semctl(id, 0, IPC_RMID));

	EXPECT_EXITS(child, 0);
}

CASE(ipc, shm_removed_while_attached_lives_on_nameless_until_the_last_detach, "ipc.sysv.shm-rmid-while-attached")
{
	key_t key = own_key(3);
	int id = (int)SAFE(shmget(key, (size_t)hx_page_size(), IPC_CREAT | IPC_EXCL | 0600));
	char *a = (char *)SAFE(shmat(id, NULL, 0));
	strcpy(a, "kept");

	SAFE(shmctl(id, IPC_RMID, NULL));

	struct shmid_ds ds;
	EXPECT_OK(shmctl(id, IPC_STAT, &ds));
	hx_evidence("after_rmid", "key=%d,dest=%d,nattch=%lu", (int)ds.shm_perm.__key, !!(ds.shm_perm.mode & SHM_DEST),
		    (unsigned long)ds.shm_nattch);
	cr_assert_str_eq(a, "kept");
	cr_assert(ds.shm_perm.__key == 0 && (ds.shm_perm.mode & SHM_DEST) && ds.shm_nattch == 1,
		  "IPC_STAT: key %d, mode %#o, nattch %lu", (int)ds.shm_perm.__key, ds.shm_perm.mode,
		  (unsigned long)ds.shm_nattch);
	EXPECT_FAILS_WITH(shmget(key, 0, 0), ENOENT);
	char *b = (char *)EXPECT_OK(shmat(id, NULL, 0));
	cr_assert_str_eq(b, "kept", "a second attach by id reads '%s'", b);
	shmdt(b);
	shmdt(a);
	EXPECT_FAILS_WITH(shmctl(id, IPC_STAT, &ds), EINVAL);
}

CASE(ipc, store_into_a_shm_rdonly_attach_faults_with_segv_accerr, "ipc.sysv.shm-rdonly-attach-faults-on-write")
{
	int id = (int)SAFE(shmget(IPC_PRIVATE, (size_t)hx_page_size(), 0600));
	volatile char *ro = (char *)SAFE(shmat(id, NULL, SHM_RDONLY));
	shmctl(id, IPC_RMID, NULL);
	pid_t child;
	IN_CHILD(child) {
		hx_catch_faults((void *)ro);
		CHILD_EXPECT(ro[0] == 0, "the read-only attach does not read");
		ro[0] = 1;
		CHILD_EXPECT(0, "a store into a SHM_RDONLY attach did not fault");
	}

	EXPECT_FAULT_AT(child, SIGSEGV, 0);
	EXPECT_FAULT_CODE("SEGV_ACCERR");
	shmdt((void *)ro);
}

static int take_two_and_exit(int id, short flags)
{
	pid_t child;
	IN_CHILD(child) {
		struct sembuf take = { 0, -2, flags };
		CHILD_EXPECT(semop(id, &take, 1) == 0, "semop: %s", hx_errno_name(errno));
	}
	EXPECT_EXITS(child, 0);
	return semctl(id, 0, GETVAL);
}

CASE(ipc, sem_undo_change_is_reverted_when_the_process_exits_and_a_plain_one_stays, "ipc.sysv.sem-undo-reverts-at-exit")
{
	int id = (int)SAFE(semget(IPC_PRIVATE, 1, 0600));
	SAFE(semctl(id, 0, SETVAL, (union semun){ .val = 5 }));

	int undone = take_two_and_exit(id, SEM_UNDO);
	int kept = take_two_and_exit(id, 0);

	hx_evidence("after_exit", "sem_undo=%d,plain=%d", undone, kept);
	cr_assert_eq(undone, 5, "after a SEM_UNDO child exited the value is %d", undone);
	cr_assert_eq(kept, 3, "after a plain child exited the value is %d", kept);
	semctl(id, 0, IPC_RMID);
}

CASE(ipc, semop_with_ipc_nowait_is_eagain_and_values_above_semvmx_are_erange, "ipc.sysv.sem-limits")
{
	int id = (int)SAFE(semget(IPC_PRIVATE, 1, 0600));
	struct sembuf take = { 0, -1, IPC_NOWAIT }, give = { 0, 1, IPC_NOWAIT };

	EXPECT_FAILS_WITH(semop(id, &take, 1), EAGAIN);
	EXPECT_FAILS_WITH(semctl(id, 0, SETVAL, (union semun){ .val = 32768 }), ERANGE);
	hx_evidence("setval_32768", "%s", hx_evidence_str("errno"));
	SAFE(semctl(id, 0, SETVAL, (union semun){ .val = 32767 }));
	EXPECT_FAILS_WITH(semop(id, &give, 1), ERANGE);

	semctl(id, 0, IPC_RMID);
}
