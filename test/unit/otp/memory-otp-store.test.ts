import { describeOtpStoreContract } from "../../helpers/otp-store-contract.js";
import { MemoryOtpStore } from "../../../core/otp/memory-otp-store.js";

describeOtpStoreContract("memory", async () => new MemoryOtpStore());
